#!/usr/bin/python3
"""Upstream side of the latency benchmark: Debian's fail2ban 1.0.2 FilterPyinotify and
FilterPoll, time from appending a line until the filter hands it to processLineAndAdd.
Usage: /usr/bin/python3 crates/f2b-tail/benches/upstream_latency.py [iterations] [poll-ms]"""
import os, sys, tempfile, threading, time
from fail2ban.server.filterpyinotify import FilterPyinotify
from fail2ban.server.filterpoll import FilterPoll
from fail2ban.tests.dummyjail import DummyJail


def measure(cls, name, n, spread_ms, sleeptime=None):
    d = tempfile.mkdtemp()
    path = os.path.join(d, 'auth.log')
    open(path, 'w').close()
    f = cls(DummyJail())
    got = threading.Event()
    f.processLineAndAdd = lambda line, date=None: got.set()
    if sleeptime is not None:
        f.sleeptime = sleeptime
    f.addLogPath(path, tail=True)
    f.start()
    time.sleep(0.5)
    samples = []
    with open(path, 'a') as out:
        for i in range(n):
            got.clear()
            t0 = time.perf_counter()
            out.write('Nov 25 10:00:00 host sshd[1]: line %d\n' % i)
            out.flush()
            if not got.wait(10):
                raise SystemExit('%s: line %d never arrived' % (name, i))
            samples.append(time.perf_counter() - t0)
            time.sleep((1 + (i * 2654435761) % max(spread_ms, 1)) / 1000.0)
    f.stop()
    samples.sort()
    pct = lambda p: samples[int((len(samples) - 1) * p)]
    fmt = lambda s: ('%.3fms' % (s * 1e3)) if s >= 1e-3 else ('%.3fus' % (s * 1e6))
    print('%-22s n=%-5d p50=%9s p90=%9s p99=%9s max=%9s' % (
        name, n, fmt(pct(.5)), fmt(pct(.9)), fmt(pct(.99)), fmt(samples[-1])))


if __name__ == '__main__':
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    interval = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    measure(FilterPyinotify, 'upstream pyinotify', n, 3)
    measure(FilterPoll, 'upstream polling (%d ms)' % interval, min(n, 100), interval,
            sleeptime=interval / 1000.0)

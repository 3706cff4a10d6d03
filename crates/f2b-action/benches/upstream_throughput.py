#!/usr/bin/python3
"""Upstream side of the action throughput benchmark: the same dummy-like action driven by
Debian's fail2ban 1.0.2 Actions/CommandAction (bans and unbans through the ban manager).
Usage: /usr/bin/python3 crates/f2b-action/benches/upstream_throughput.py [bans]"""
import os, sys, tempfile, time
from fail2ban.tests.dummyjail import DummyJail


class Jail(DummyJail):
    def __bool__(self):
        return True


n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
d = tempfile.mkdtemp()
t = os.path.join(d, 'dummy.txt')
acts = Jail(name='sshd').actions
acts.add('dummy')
a = acts['dummy']
a.actionstart = 'touch %s' % t
a.actionban = 'printf %%b "+<ip>\\n" >> %s' % t
a.actionunban = 'printf %%b "-<ip>\\n" >> %s' % t
a.actionstop = 'rm -f %s' % t
a.start()
ips = ['10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(n)]
t0 = time.perf_counter()
acts.addBannedIP(ips)
for ip in ips:
    acts.removeBannedIP(ip, db=False)
el = time.perf_counter() - t0
assert sum(1 for _ in open(t)) == 2 * n
a.stop()
print('upstream     %d bans + %d unbans: %.3f s, %.0f µs per command' % (n, n, el, el * 1e6 / (2 * n)))

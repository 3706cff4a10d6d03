#!/bin/sh
# Shared part of the fail2ban-server benchmarks (sourced by benches/server_*.sh; run by hand,
# not in CI). Runs Debian's real server and ours side by side in one run, each with a scratch
# copy of /etc/fail2ban (socket, pidfile, log, database in a temp dir; never system paths),
# and talks to them over the raw socket protocol (pickle framing) so that polling costs
# almost nothing. Usage: . benches/server_common.sh; run_server_bench MODE [ARGS...]
#   MODE throughput N   time to consume an N-line auth log with current timestamps
#   MODE rss            idle RSS with one sshd jail
#   MODE latency K      line appended -> ban command started, K samples, p50/p99
# Env: POLL (status poll interval in throughput mode, default 0.05 s), OURS_DIR (default $CARGO_TARGET_DIR/release or target/release), IMPLS="upstream ours".
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
OURS_DIR=${OURS_DIR:-${CARGO_TARGET_DIR:-$root/target}/release}
IMPLS=${IMPLS:-"upstream ours"}
PY=/usr/bin/python3

run_server_bench() {
    [ -x /usr/bin/fail2ban-server ] || { echo "missing oracle /usr/bin/fail2ban-server" >&2; exit 1; }
    if [ ! -x "$OURS_DIR/fail2ban-server" ]; then
        (cd "$root" && cargo build --release -p fail2ban --bin fail2ban-server)
    fi
    tmp=$(mktemp -d /tmp/f2b-bench.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    cat > "$tmp/bench.py" <<'PY'
import json, os, pickle, shutil, socket, subprocess, sys, time
END = b"<F2B_END_COMMAND>"
CLOSE = b"<F2B_CLOSE_COMMAND>"
TMP, OURS_DIR, IMPLS, MODE = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
ARGS = sys.argv[5:]
SERVERS = {"upstream": "/usr/bin/fail2ban-server", "ours": os.path.join(OURS_DIR, "fail2ban-server")}

def cmd(sock, c, timeout=60):
    s = socket.socket(socket.AF_UNIX); s.settimeout(timeout); s.connect(sock)
    s.sendall(pickle.dumps(c, 4) + END); buf = b""
    while not buf.endswith(END):
        d = s.recv(65536)
        if not d: break
        buf += d
    s.sendall(CLOSE + END); s.close()
    return pickle.loads(buf[:-len(END)])

def scratch(name, jail):
    d = os.path.join(TMP, name)
    shutil.copytree("/etc/fail2ban", d + "/conf")
    shutil.rmtree(d + "/conf/jail.d"); os.mkdir(d + "/conf/jail.d")
    open(d + "/conf/fail2ban.local", "w").write(
        "[Definition]\nloglevel = INFO\nlogtarget = %s/f2b.log\nsocket = %s/f2b.sock\n"
        "pidfile = %s/f2b.pid\ndbfile = %s/f2b.db\n" % (d, d, d, d))
    open(d + "/conf/jail.d/sshd.local", "w").write("[sshd]\nenabled = true\n" + jail)
    return d

def start(impl, d):
    p = subprocess.Popen([SERVERS[impl], "-c", d + "/conf", "-f", "-x"],
                         stdout=open(d + "/out", "w"), stderr=subprocess.STDOUT)
    t0 = time.time()
    while True:
        try:
            # the jail is up once it answers status
            st = status(d, "sshd"); return p, t0, time.time()
        except Exception:
            if p.poll() is not None or time.time() - t0 > 120:
                raise SystemExit("%s did not start: %s" % (impl, open(d + "/out").read()))
            time.sleep(0.01)

def status(d, jail):
    r = cmd(d + "/f2b.sock", ["status", jail])
    assert r[0] == 0, r
    f = dict(r[1][0][1]); a = dict(r[1][1][1])
    return f["Total failed"], a["Total banned"]

def proc(pid):
    v = {}
    for l in open("/proc/%d/status" % pid):
        k, _, val = l.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"): v[k] = val.strip()
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    v["cpu_s"] = round((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"), 2)
    return v

def stop(d, p):
    try: cmd(d + "/f2b.sock", ["stop"])
    except Exception: pass
    try: p.wait(60)
    except Exception: p.kill(); p.wait()

def gen(path, n, span):
    """auth.log-like lines ending now: ~30 % sshd failures from ~5000 addresses (skewed)."""
    import random
    r = random.Random(20261125); end = time.time(); start = end - span
    with open(path, "w") as f:
        for i in range(n):
            t = time.strftime("%b %e %H:%M:%S", time.localtime(start + span * i / n))
            pid = r.randrange(1000, 60000); x = r.random()
            if x < 0.3:
                k = int(r.random() ** 2 * 5000)
                ip = "10.%d.%d.%d" % (20 + k // 65536, (k // 256) % 256, k % 256)
                f.write("%s bench sshd[%d]: Failed password for invalid user admin from %s port %d ssh2\n" % (t, pid, ip, 30000 + pid % 30000))
            elif x < 0.65:
                f.write("%s bench sshd[%d]: Accepted publickey for deploy from 192.0.2.%d port %d ssh2: ED25519 SHA256:x\n" % (t, pid, r.randrange(1, 250), 30000 + pid % 30000))
            else:
                f.write("%s bench CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n" % (t, pid))

def pct(v, q):
    v = sorted(v); return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]

res = {}
if MODE == "throughput":
    n = int(ARGS[0]) if ARGS else 1000000
    log = os.path.join(TMP, "auth.log"); gen(log, n, 3600)
    for impl in IMPLS:
        d = scratch(impl, "logpath = %s\nbackend = auto\nmaxretry = 5\nfindtime = 2h\nbantime = 1h\naction =\n" % log)
        p, t0, tready = start(impl, d)
        last, since, tfinal = None, time.time(), None
        while time.time() - since < 3:
            tf, tb = status(d, "sshd")
            if tf != last: last, since, tfinal = tf, time.time(), time.time()
            time.sleep(float(os.environ.get("POLL", "0.05")))
        secs = tfinal - tready
        res[impl] = {"lines": n, "startup_s": round(tready - t0, 2), "consume_s": round(secs, 2),
                     "lines_per_s": int(n / secs), "total_failed": last, "total_banned": tb, **proc(p.pid)}
        stop(d, p)
elif MODE == "rss":
    log = os.path.join(TMP, "auth.log"); open(log, "w").close()
    for impl in IMPLS:
        d = scratch(impl, "logpath = %s\nbackend = auto\n" % log)
        p, t0, tready = start(impl, d)
        time.sleep(5)
        res[impl] = {"startup_s": round(tready - t0, 2), **proc(p.pid)}
        stop(d, p)
elif MODE == "latency":
    k = int(ARGS[0]) if ARGS else 200
    for impl in IMPLS:
        d = scratch(impl, "")
        log = d + "/auth.log"; open(log, "w").close(); out = d + "/bans"
        open(d + "/conf/action.d/stamp.conf", "w").write(
            "[Definition]\nactionban = echo \"$(date +%%%%s.%%%%N) <ip>\" >> %s\nactionunban =\n" % out)
        open(d + "/conf/jail.d/sshd.local", "a").write(
            "logpath = %s\nbackend = auto\nmaxretry = 1\nbantime = 1h\naction = stamp\n" % log)
        p, t0, tready = start(impl, d)
        sent = {}
        for i in range(k):
            ip = "10.99.%d.%d" % (i // 250, 1 + i % 250)
            line = "%s bench sshd[%d]: Failed password for root from %s port 4242 ssh2\n" % (
                time.strftime("%b %e %H:%M:%S"), 5000 + i, ip)
            with open(log, "a") as f:
                sent[ip] = time.time(); f.write(line)
            time.sleep(0.05)
        deadline = time.time() + 60
        while time.time() < deadline:
            got = open(out).read().split("\n") if os.path.exists(out) else []
            got = [g.split() for g in got if g]
            if len(got) >= k: break
            time.sleep(0.2)
        lat = [1000 * (float(ts) - sent[ip]) for ts, ip in got if ip in sent]
        res[impl] = {"samples": len(lat), "p50_ms": round(pct(lat, 0.5), 2), "p99_ms": round(pct(lat, 0.99), 2),
                     "max_ms": round(max(lat), 2), **proc(p.pid)}
        stop(d, p)
    # baseline: the same shell command started directly (fork/exec of sh and date)
    base = []
    for i in range(k):
        t = time.time()
        o = subprocess.run(["/bin/sh", "-c", 'echo "$(date +%s.%N)"'], capture_output=True, text=True)
        base.append(1000 * (float(o.stdout) - t))
        time.sleep(0.01)
    res["baseline_sh_date"] = {"p50_ms": round(pct(base, 0.5), 2), "p99_ms": round(pct(base, 0.99), 2)}
print(json.dumps(res, indent=1))
PY
    "$PY" "$tmp/bench.py" "$tmp" "$OURS_DIR" "$IMPLS" "$@"
}

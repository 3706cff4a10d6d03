#!/bin/bash
# One portsentry scenario in private namespaces. Run as:
#   unshare -n -m -p --fork --mount-proc --kill-child bash scenario.sh OUT
# (or, for a daemon in an existing network namespace, without -n and with NONET=1).
# OUT holds: conf (becomes /etc/portsentry/portsentry.conf), start.sh (starts the daemon(s)),
# act (pstool actions; without it the script signals OUT/ready and waits to be killed),
# optional default (becomes /etc/default/portsentry), optional ignore.static, optional pre (pstool actions run in the background before the
# daemon starts: services), optional ACTIVE (number of "now active" lines to wait for).
# Results left in OUT: syslog.jsonl, client.txt, stdout.txt, hosts.deny.before/after.
set -u
OUT=$1
TOOL=$(cd "$(dirname "$0")" && pwd)/pstool.py
mount --make-rprivate /
if [ -z "${NONET:-}" ]; then
    ip link set lo up
    for i in $(seq 1 20); do ip addr add 10.99.0.$i/32 dev lo; done
    for i in 1 2 3 4 5; do ip -6 addr add fd00::$i/128 dev lo nodad; done
fi
# a private /dev with our own /dev/log
mkdir -p "$OUT/olddev"
mount --bind /dev "$OUT/olddev"
mount -t tmpfs tmpfs /dev
for n in null zero urandom random tty full; do touch /dev/$n; mount --bind "$OUT/olddev/$n" /dev/$n; done
# private copies of the fixed 1.2 paths
mkdir -p "$OUT/etc-portsentry" "$OUT/varlib"
cp "$OUT/conf" "$OUT/etc-portsentry/portsentry.conf"
[ -f "$OUT/ignore.static" ] && cp "$OUT/ignore.static" "$OUT/etc-portsentry/portsentry.ignore.static"
mkdir -p /etc/portsentry /var/lib/portsentry
mount --bind "$OUT/etc-portsentry" /etc/portsentry
mount --bind "$OUT/varlib" /var/lib/portsentry
cp /etc/hosts.deny "$OUT/hosts.deny" 2>/dev/null || : > "$OUT/hosts.deny"
cp "$OUT/hosts.deny" "$OUT/hosts.deny.before"
touch /etc/hosts.deny
mount --bind "$OUT/hosts.deny" /etc/hosts.deny
if [ -f "$OUT/default" ]; then
    touch /etc/default/portsentry
    mount --bind "$OUT/default" /etc/default/portsentry
fi
cp /etc/hosts "$OUT/hosts"
[ -f "$OUT/hosts.extra" ] && cat "$OUT/hosts.extra" >> "$OUT/hosts"
mount --bind "$OUT/hosts" /etc/hosts
: > "$OUT/syslog.jsonl"
python3 "$TOOL" syslogd /dev/log "$OUT/syslog.jsonl" &
for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.02; done
if [ -f "$OUT/pre" ]; then
    python3 "$TOOL" run "$OUT/pre" "$OUT/pre.ready" > "$OUT/pre.txt" 2>&1 &
    for _ in $(seq 250); do [ -f "$OUT/pre.ready" ] && break; sleep 0.02; done
fi
export TZ=UTC
bash "$OUT/start.sh" > "$OUT/stdout.txt" 2> "$OUT/stderr.txt"
echo "rc=$?" >> "$OUT/stdout.txt"
want=${ACTIVE:-1}
for _ in $(seq 250); do
    [ "$(grep -c 'PortSentry is now active' "$OUT/syslog.jsonl")" -ge "$want" ] && break
    grep -q 'shutting down' "$OUT/syslog.jsonl" && break
    sleep 0.02
done
sleep 0.2
if [ ! -f "$OUT/act" ]; then
    # driven from outside (another namespace): stay up until killed
    touch "$OUT/ready"
    exec sleep infinity
fi
python3 "$TOOL" run "$OUT/act" > "$OUT/client.txt" 2>&1
# let the daemon finish with the last event: the capture must stay unchanged for 0.45 s
n=-1
quiet=0
for _ in $(seq 100); do
    m=$(wc -l < "$OUT/syslog.jsonl")
    if [ "$m" = "$n" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ "$quiet" -ge 3 ] && break
    n=$m
    sleep 0.15
done
cp /etc/hosts.deny "$OUT/hosts.deny.after"
ps -eo pid,args > "$OUT/ps.txt"

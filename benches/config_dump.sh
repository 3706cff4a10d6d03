#!/bin/sh
# Benchmark "config -d": our fail2ban-client -d against Debian's real one, side by side in one
# hyperfine run, on case (b) of the config differential test: Debian's stock /etc/fail2ban copied
# to a scratch dir plus a jail.local enabling every jail of jail.conf on existing dummy log files.
#
# Usage: benches/config_dump.sh [runs]      (default 30 runs after 3 warm-ups)
# Env:   F2B_CLIENT=path to our binary (default: target/release/fail2ban-client, built if absent)
#        CALLGRIND=1 also counts executed instructions of one run of each (load-independent).
set -eu
runs=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
ours=${F2B_CLIENT:-${CARGO_TARGET_DIR:-$root/target}/release/fail2ban-client}
if [ ! -x "$ours" ]; then
    (cd "$root" && cargo build --release -p fail2ban --bin fail2ban-client)
fi
real=/usr/bin/fail2ban-client
[ -x "$real" ] || { echo "missing oracle $real" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r /etc/fail2ban "$tmp/conf"
mkdir "$tmp/conf/logs"
# enable every jail of jail.conf, each on its own empty dummy log
grep -E '^\[[^]]+\]' /etc/fail2ban/jail.conf | tr -d '[]' | grep -vx -e DEFAULT -e INCLUDES |
while read -r jail; do
    : > "$tmp/conf/logs/$jail.log"
    printf '[%s]\nenabled = true\nlogpath = %s\n\n' "$jail" "$tmp/conf/logs/$jail.log"
done > "$tmp/conf/jail.local"
jails=$(grep -c '^enabled' "$tmp/conf/jail.local")

# both must print the same stream, or the comparison is meaningless
"$real" -c "$tmp/conf" -d > "$tmp/real.out" 2>/dev/null
"$ours" -c "$tmp/conf" -d > "$tmp/ours.out" 2>/dev/null
cmp -s "$tmp/real.out" "$tmp/ours.out" || { echo "outputs differ" >&2; exit 1; }
echo "case (b): $jails jails, $(wc -l < "$tmp/ours.out") stream lines, identical output"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N -w 3 -r "$runs" --export-markdown "$tmp/table.md" \
    -n "upstream 1.0.2 (python)" "$real -c $tmp/conf -d" \
    -n "ours (Rust)" "$ours -c $tmp/conf -d" 2>/dev/null | grep -v '^ *$'
cat "$tmp/table.md"
# CPU time (user + system) is less sensitive to the machine's load than wall time; page
# faults are a good part of the kernel time of a short process
command -v perf > /dev/null && for who in real ours; do
    eval bin=\$$who
    perf stat -x, -e task-clock,page-faults -r 20 "$bin" -c "$tmp/conf" -d 2>&1 >/dev/null |
        sed -n -e "s/^\([0-9.]*\),msec,task-clock.*/$who task-clock (mean of 20): \1 ms/p" \
            -e "s/^\([0-9]*\),,page-faults.*/$who page faults: \1/p"
done

if [ "${CALLGRIND:-0}" = 1 ]; then
    for who in real ours; do
        eval bin=\$$who
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" -c "$tmp/conf" -d \
            2>&1 >/dev/null | sed -n "s/.*Collected : */$who instructions: /p"
    done
fi

#!/usr/bin/env bash
# Journal reading benchmark: formatted lines per second from one journal file, our
# reader (f2b-journal's dump example) against upstream's (python-systemd +
# FilterSystemd.formatJournalEntry, the loop fail2ban-regex runs), side by side.
#
# Usage: benches/journal_read.sh [ENTRIES]     (default 200000)
# Needs systemd-journal-remote and Debian's python3-systemd + fail2ban.
# Env: WORK (scratch dir, default mktemp). systemd-journal-remote rotates big files, so
# both readers open all bench*.journal files. Prints a markdown table and checks that
# both readers produced the same output.
set -euo pipefail
n=${1:-200000}
work=${WORK:-$(mktemp -d)}
cd "$(dirname "$0")/.."
cargo build --release --quiet -p f2b-journal --example dump
ours=${CARGO_TARGET_DIR:-target}/release/examples/dump
jf="$work/bench.journal"
if [ ! -f "$jf" ]; then
    /usr/bin/python3 - "$n" <<'PY' | /lib/systemd/systemd-journal-remote -o "$jf" - 2>/dev/null
import sys
n = int(sys.argv[1]); out = sys.stdout.buffer
base = 1764061200 * 1000000
for i in range(n):
    f = [("__REALTIME_TIMESTAMP", base + i * 10000), ("__MONOTONIC_TIMESTAMP", 1000000 + i),
         ("_BOOT_ID", "0123456789abcdef0123456789abcdef"), ("_HOSTNAME", "host%d" % (i % 3)),
         ("SYSLOG_IDENTIFIER", "sshd"), ("_COMM", "sshd"), ("_PID", 1000 + i % 50),
         ("_SYSTEMD_UNIT", "ssh.service" if i % 4 else "cron.service"),
         ("MESSAGE", "Failed password for invalid user u%d from 198.51.%d.%d port %d ssh2"
          % (i, i // 256 % 256, i % 256, 1024 + i % 60000))]
    out.write(b"".join(("%s=%s\n" % kv).encode() for kv in f) + b"\n")
PY
fi
upstream='
import sys
from fail2ban.server.filtersystemd import FilterSystemd
flt = FilterSystemd(None, journalfiles=sys.argv[1])
if len(sys.argv) > 2: flt.addJournalMatch(sys.argv[2].split())
j = flt.getJournalReader(); w = sys.stdout.write
while True:
    e = j.get_next()
    if not e: break
    line, t = flt.formatJournalEntry(e)
    w("%r\t%s\n" % (t, "".join(line)))
'
measure() { # label cmd... -> "wall user sys rss lines"
    local tm="$work/time" out="$work/$1.out"; shift
    /usr/bin/time -f "%e %U %S %M" -o "$tm" "$@" > "$out"
    echo "$(cat "$tm") $(wc -l < "$out")"
}
echo "| selection | reader | lines | lines/s (CPU) | lines/s (wall) | peak RSS |"
echo "|---|---|---:|---:|---:|---:|"
status=0
for m in "" "_SYSTEMD_UNIT=ssh.service"; do
    label=${m:-all entries}
    read -r uw uu us um ul <<<"$(TZ=UTC measure up /usr/bin/python3 -c "$upstream" "$work/bench*.journal" ${m:+"$m"})"
    read -r ow ou os om ol <<<"$(TZ=UTC measure ours "$ours" "journalfiles=$work/bench*.journal" ${m:+"$m"})"
    for r in "upstream $uw $uu $us $um $ul" "ours $ow $ou $os $om $ol"; do
        read -r name w u s rss l <<<"$r"
        printf '| %s | %s | %d | %.0f | %.0f | %d MiB |\n' "$label" "$name" "$l" \
            "$(echo "$l / ($u + $s + 0.001)" | bc -l)" "$(echo "$l / ($w + 0.001)" | bc -l)" $((rss / 1024))
    done
    if ! cmp -s "$work/up.out" "$work/ours.out"; then
        echo "outputs differ for '$label'" >&2; status=1
    fi
done
exit $status

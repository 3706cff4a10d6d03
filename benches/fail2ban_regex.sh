#!/usr/bin/env bash
# fail2ban-regex benchmark: our binary against Debian's, side by side, on a
# synthetic auth.log, for the stock sshd filter (normal and aggressive mode).
#
# Usage: benches/fail2ban_regex.sh GENERATOR [LINES]
#   GENERATOR  path to gen_authlog.py (a deterministic auth.log generator taking
#              "-n LINES"); it is not part of this repository
#   LINES      default 1000000
# Env: F2B_REGEX (our binary, default target/release/fail2ban-regex),
#      REAL (default /usr/bin/fail2ban-regex), WORK (scratch dir, default mktemp).
# Prints a markdown table (lines/s from CPU time and from wall time, ratio, peak
# RSS) and checks that both report the same "Lines:" totals.
set -euo pipefail
gen=${1:?usage: $0 path/to/gen_authlog.py [lines]}
n=${2:-1000000}
ours=${F2B_REGEX:-target/release/fail2ban-regex}
real=${REAL:-/usr/bin/fail2ban-regex}
work=${WORK:-$(mktemp -d)}
log="$work/auth.log"
[ -x "$ours" ] || { echo "build first: cargo build --release -p fail2ban --bin fail2ban-regex" >&2; exit 1; }
[ -f "$log" ] || python3 "$gen" -n "$n" -o "$log"
lines=$(wc -l < "$log")

measure() { # name bin filter -> "wall user sys maxrss_kb totals"
    local out="$work/$1.out" tm="$work/$1.time"
    /usr/bin/time -f "%e %U %S %M" -o "$tm" "$2" "$log" "$3" > "$out"
    echo "$(cat "$tm") $(grep '^Lines:' "$out" | sed 's/^Lines: //')"
}

t0=$(date +%s.%N); floor=$(grep -c sshd "$log"); t1=$(date +%s.%N)
floor_s=$(echo "$t1 - $t0" | bc -l)

echo "| filter | binary | lines/s (CPU) | lines/s (wall) | peak RSS | totals |"
echo "|---|---|---:|---:|---:|---|"
status=0
for flt in sshd "sshd[mode=aggressive]"; do
    read -r rw ru rs rm rt <<<"$(measure real "$real" "$flt")"
    read -r ow ou os om ot <<<"$(measure ours "$ours" "$flt")"
    rcpu=$(echo "$lines / ($ru + $rs)" | bc -l); rwall=$(echo "$lines / $rw" | bc -l)
    ocpu=$(echo "$lines / ($ou + $os + 0.001)" | bc -l); owall=$(echo "$lines / ($ow + 0.001)" | bc -l)
    printf '| %s | upstream 1.0.2 | %.0f | %.0f | %d MB | %s |\n' "$flt" "$rcpu" "$rwall" $((rm / 1024)) "$rt"
    printf '| %s | ours | %.0f | %.0f | %d MB | %s |\n' "$flt" "$ocpu" "$owall" $((om / 1024)) "$ot"
    printf '| %s | ratio | %.1fx | %.1fx | %.1f%% | %s |\n' "$flt" "$(echo "$ocpu / $rcpu" | bc -l)" \
        "$(echo "$owall / $rwall" | bc -l)" "$(echo "100 * $om / $rm" | bc -l)" \
        "$([ "$rt" = "$ot" ] && echo same || echo DIFFERENT)"
    [ "$rt" = "$ot" ] || status=1
done
printf '| floor | grep -c sshd | %.0f (wall) | | | %s lines match |\n' "$(echo "$lines / $floor_s" | bc -l)" "$floor"
echo
echo "$lines lines, $(du -h "$log" | cut -f1); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status

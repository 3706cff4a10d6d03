#!/bin/sh
# Line delivery latency (append -> event) of the f2b-tail backends (examples/latency.rs),
# side by side with upstream's FilterPyinotify/FilterPoll (upstream_latency.py) when
# Debian's fail2ban is installed.
# Usage: crates/f2b-tail/benches/latency.sh [iterations] [poll-interval-ms]
set -eu
cd "$(dirname "$0")/../../.."
N="${1:-500}"
MS="${2:-100}"
cargo run --quiet --release -p f2b-tail --example latency -- "$N" "$MS"
if /usr/bin/python3 -c 'import fail2ban, pyinotify' 2>/dev/null; then
    /usr/bin/python3 crates/f2b-tail/benches/upstream_latency.py "$N" "$MS"
else
    echo "upstream fail2ban/pyinotify not installed: no comparison"
fi

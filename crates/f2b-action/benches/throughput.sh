#!/bin/sh
# Ban/unban command throughput of f2b-action next to upstream's CommandAction.
# Usage: crates/f2b-action/benches/throughput.sh [bans]
set -eu
cd "$(dirname "$0")/../../.."
N="${1:-500}"
cargo run --quiet --release -p f2b-action --example throughput -- "$N"
if /usr/bin/python3 -c 'import fail2ban' 2>/dev/null; then
    /usr/bin/python3 crates/f2b-action/benches/upstream_throughput.py "$N"
else
    echo "upstream fail2ban not installed: no comparison"
fi

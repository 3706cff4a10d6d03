#!/bin/sh
# fail2ban-server benchmark: latency from a line appended to its ban command starting (K samples, default 200),
# Debian's real server and ours side by side in one run (see benches/server_common.sh).
# Usage: benches/server_latency.sh [K]
# Run by hand (root not needed), not in CI; results go to docs/benchmarks.md.
. "$(dirname "$0")/server_common.sh"
run_server_bench latency "$@"

#!/bin/sh
# fail2ban-server benchmark: time to consume an N-line auth log (default 1000000) with current timestamps,
# Debian's real server and ours side by side in one run (see benches/server_common.sh).
# Usage: benches/server_throughput.sh [N]
# Run by hand (root not needed), not in CI; results go to docs/benchmarks.md.
. "$(dirname "$0")/server_common.sh"
run_server_bench throughput "$@"

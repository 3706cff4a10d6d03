#!/bin/sh
# fail2ban-server benchmark: idle RSS with one sshd jail,
# Debian's real server and ours side by side in one run (see benches/server_common.sh).
# Usage: benches/server_rss.sh 
# Run by hand (root not needed), not in CI; results go to docs/benchmarks.md.
. "$(dirname "$0")/server_common.sh"
run_server_bench rss "$@"

#!/usr/bin/env bash
# Requests per second for `status sshd` on the control socket, Debian's fail2ban-server
# (1.0.2, Python) and ours side by side, on the same scratch configuration (stock
# /etc/fail2ban + jails sshd and apache-auth, polling backend, dummy action; every path
# in a temp dir).
#
# Two load shapes, each for $DUR seconds (default 10):
#   - raw protocol: a small std-only Rust load generator (compiled here with rustc -O)
#     sends the pickled ['status', 'sshd'] and checks each reply; either one request
#     per connection (what fail2ban-client does) or many requests on a kept connection,
#     with 1, 8 and 64 client threads;
#   - whole client: `fail2ban-client -c <conf> status sshd` run back to back (one at a
#     time), Debian's client vs ours, against each server.
#
# Usage: benches/socket_status_rps.sh            (builds our release binaries first)
#        NO_BUILD=1 DUR=5 benches/socket_status_rps.sh
# Output: a Markdown table on stdout (copied into docs/benchmarks.md by hand).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DUR=${DUR:-10}
if [ -z "${NO_BUILD:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet -p fail2ban --bin fail2ban-server --bin fail2ban-client)
fi
OUR_SERVER=$TARGET/release/fail2ban-server
OUR_CLIENT=$TARGET/release/fail2ban-client
for f in /usr/bin/fail2ban-server /usr/bin/fail2ban-client "$OUR_SERVER" "$OUR_CLIENT"; do
    [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/f2b-sockbench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/load.rs" <<'EOF'
// Load generator: <sock> <threads> <seconds> <per-connection|persistent|ping>
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REQ: &[u8] = b"\x80\x05\x95\x15\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x06status\x94\x8c\x04sshd\x94e.<F2B_END_COMMAND>";
const END: &[u8] = b"<F2B_END_COMMAND>";
const CLOSE: &[u8] = b"<F2B_CLOSE_COMMAND><F2B_END_COMMAND>";

fn reply(s: &mut UnixStream, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.ends_with(END) {
                    return buf.windows(16).any(|w| w == b"Currently failed");
                }
            }
        }
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (sock, threads, secs, mode) = (a[1].clone(), a[2].parse::<usize>().unwrap(), a[3].parse::<u64>().unwrap(), a[4].clone());
    if mode == "ping" {
        // exit 0 when the server answers status sshd
        let ok = UnixStream::connect(&sock).map(|mut s| { s.write_all(REQ).unwrap(); reply(&mut s, &mut Vec::new()) }).unwrap_or(false);
        std::process::exit(if ok { 0 } else { 1 });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let hs: Vec<_> = (0..threads).map(|_| {
        let (stop, done, bad, sock, mode) = (stop.clone(), done.clone(), bad.clone(), sock.clone(), mode.clone());
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut kept: Option<UnixStream> = None;
            while !stop.load(Ordering::Relaxed) {
                let mut s = match kept.take() {
                    Some(s) => s,
                    None => match UnixStream::connect(&sock) { Ok(s) => s, Err(_) => { bad.fetch_add(1, Ordering::Relaxed); continue; } },
                };
                if s.write_all(REQ).is_err() || !reply(&mut s, &mut buf) { bad.fetch_add(1, Ordering::Relaxed); continue; }
                done.fetch_add(1, Ordering::Relaxed);
                if mode == "persistent" { kept = Some(s); } else { let _ = s.write_all(CLOSE); }
            }
        })
    }).collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs { h.join().unwrap(); }
    let el = start.elapsed().as_secs_f64();
    println!("{:.0} {}", done.load(Ordering::Relaxed) as f64 / el, bad.load(Ordering::Relaxed));
}
EOF
rustc -O --edition 2021 -o "$WORK/load" "$WORK/load.rs"

# setup <name>: scratch configuration in $WORK/<name>
setup() {
    local d=$WORK/$1
    mkdir -p "$d/logs"
    cp -r /etc/fail2ban "$d/conf"
    rm -rf "$d/conf/jail.d"; mkdir "$d/conf/jail.d"
    : > "$d/logs/auth.log"; : > "$d/logs/web.log"
    cat > "$d/conf/fail2ban.local" <<EOT
[Definition]
loglevel = INFO
logtarget = $d/fail2ban.log
socket = $d/run/f2b.sock
pidfile = $d/run/f2b.pid
dbfile = $d/f2b.sqlite3
EOT
    cat > "$d/conf/jail.d/bench.local" <<EOT
[sshd]
enabled = true
backend = polling
logpath = $d/logs/auth.log
action = dummy[target=$d/sshd.dummy]

[apache-auth]
enabled = true
backend = polling
logpath = $d/logs/web.log
action = dummy[target=$d/web.dummy]
EOT
}

# start <name> <server binary>: foreground server in the background, waits until it answers
start() {
    local d=$WORK/$1
    "$2" -f -x -c "$d/conf" > "$d/server.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 600); do
        "$WORK/load" "$d/run/f2b.sock" 1 0 ping 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server $2 did not come up" >&2; cat "$d/server.out" >&2; exit 1
}

# clients_per_s <client> <name>: back-to-back `status sshd` invocations per second
clients_per_s() {
    local n=0 end=$(( $(date +%s) + DUR ))
    "$1" -c "$WORK/$2/conf" status sshd > /dev/null 2>&1 || { echo "n/a"; return; }
    local t0; t0=$(date +%s.%N)
    while [ "$(date +%s)" -lt "$end" ]; do
        "$1" -c "$WORK/$2/conf" status sshd > /dev/null 2>&1 || { echo "fails"; return; }
        n=$((n + 1))
    done
    echo "$n $t0 $(date +%s.%N)" | awk '{ printf "%.1f", $1 / ($3 - $2) }'
}

declare -A R
for side in upstream ours; do
    setup "$side"
    if [ "$side" = upstream ]; then start "$side" /usr/bin/fail2ban-server; else start "$side" "$OUR_SERVER"; fi
    sock=$WORK/$side/run/f2b.sock
    for shape in "1 per-connection" "8 per-connection" "64 per-connection" "1 persistent" "8 persistent"; do
        set -- $shape
        out=$("$WORK/load" "$sock" "$1" "$DUR" "$2")
        R[$side,$shape]=$(echo "$out" | awk '{ printf "%s%s", $1, ($2 > 0 ? " (" $2 " errors)" : "") }')
    done
    R[$side,realclient]=$(clients_per_s /usr/bin/fail2ban-client "$side")
    R[$side,ourclient]=$(clients_per_s "$OUR_CLIENT" "$side")
    "$WORK/load" "$sock" 1 0 ping >/dev/null 2>&1 || true
    /usr/bin/fail2ban-client -c "$WORK/$side/conf" stop > /dev/null 2>&1 || true
done

echo "status sshd, $DUR s per cell, $(nproc) cores, $(uname -m), load average at the end:$(uptime | sed "s/.*load average://")"
echo
echo "| load | Debian fail2ban-server 1.0.2 | ours |"
echo "|---|---:|---:|"
for shape in "1 per-connection" "8 per-connection" "64 per-connection" "1 persistent" "8 persistent"; do
    set -- $shape
    echo "| raw protocol, $1 client thread(s), $2, req/s | ${R[upstream,$shape]} | ${R[ours,$shape]} |"
done
echo "| Debian fail2ban-client status sshd, back to back, runs/s | ${R[upstream,realclient]} | ${R[ours,realclient]} |"
echo "| our fail2ban-client status sshd, back to back, runs/s | ${R[upstream,ourclient]} | ${R[ours,ourclient]} |"

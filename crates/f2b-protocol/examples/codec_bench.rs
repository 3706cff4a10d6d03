//! Throughput of our pickle codec next to CPython's `pickle` (the C accelerator) on
//! the messages fail2ban actually exchanges: a `get <jail> banip` reply with N IPs,
//! a `status <jail>` reply, and a start-up `server-stream` request.
//!
//! Run: `cargo run --release -p f2b-protocol --example codec_bench -- 10000`

use f2b_protocol::pickle::{decode, encode, DecodeMode};
use f2b_protocol::{Request, Value};
use std::process::Command;
use std::time::Instant;

fn time<F: FnMut()>(iters: u32, mut f: F) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_secs_f64() / iters as f64
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let banip = Value::Tuple(vec![
        Value::Int(0),
        Value::List(
            (0..n)
                .map(|i| Value::Str(format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255)))
                .collect(),
        ),
    ]);
    let stream = Value::list(vec![
        Value::str("server-stream"),
        Value::List(
            (0..n / 10)
                .map(|i| {
                    Value::list(vec![
                        Value::str("set"),
                        Value::Str(format!("jail{i}")),
                        Value::str("addfailregex"),
                        Value::Str(format!("^Failed password for .* from <HOST> port {i}$")),
                    ])
                })
                .collect(),
        ),
    ]);
    if std::env::args().nth(2).as_deref() == Some("decode-loop") {
        // For `perf stat`: CPU time of K decodes of the banip reply only (K = 3rd arg).
        let k: usize = std::env::args()
            .nth(3)
            .and_then(|a| a.parse().ok())
            .unwrap_or(200);
        let bytes = encode(&banip);
        for _ in 0..k {
            std::hint::black_box(decode(&bytes, DecodeMode::Reply).unwrap());
        }
        return;
    }
    let cases = [("banip reply", banip), ("server-stream request", stream)];
    println!(
        "| message (N = {n}) | bytes | our encode | our decode | python dumps | python loads |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, v) in &cases {
        let bytes = encode(v);
        let iters = 50;
        let enc = time(iters, || {
            std::hint::black_box(encode(v));
        });
        let dec = time(iters, || {
            let d = decode(&bytes, DecodeMode::Request).unwrap();
            if let Value::List(items) = &d {
                // A server also parses the request.
                let _ = Request::from_value(&Value::List(items.clone()));
            }
            std::hint::black_box(d);
        });
        let script = format!(
            "import pickle, sys, timeit\nb = bytes.fromhex(sys.stdin.read())\nv = pickle.loads(b)\n\
             print(timeit.timeit(lambda: pickle.dumps(v, 5), number={iters}) / {iters}, timeit.timeit(lambda: pickle.loads(b), number={iters}) / {iters})"
        );
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let out = Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(hex.as_bytes())?;
                c.wait_with_output()
            })
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default();
        let py: Vec<f64> = out
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let ms = |s: f64| format!("{:.3} ms", s * 1e3);
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            bytes.len(),
            ms(enc),
            ms(dec),
            py.first().map_or("n/a".into(), |&x| ms(x)),
            py.get(1).map_or("n/a".into(), |&x| ms(x)),
        );
    }
}

//! Hostile input on the control socket (issue 5): random bytes, truncated and oversized
//! frames, deeply nested pickles and pickles that try to run a command each get an error
//! reply or a closed connection, never a hang; nothing is executed; the server keeps
//! answering. Then 200 concurrent clients loop for 30 s and every request is served.
//!
//! Each scenario runs against Debian's server too. Upstream unpickles with Python's
//! `pickle.loads`, so it *does* run the code-execution payloads: the upstream variant
//! asserts that every such payload left its marker file, which proves that the payloads
//! are real and that the marker check can see an execution. "Nothing is executed" is
//! therefore a requirement on our server only.

use compat_tests::socket::{call, cmd, Conn, Daemon, Impl, Outcome, Setup, END};
use f2b_protocol::{Reply, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The heavy load tests run one at a time (2 cores).
static LOAD: Mutex<()> = Mutex::new(());

/// Deterministic pseudo-random bytes.
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Protocol-5 pickle of `['status', 'sshd']` (what the real client sends).
const STATUS_SSHD: &[u8] =
    b"\x80\x05\x95\x15\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x06status\x94\x8c\x04sshd\x94e.";

/// A pickle of `['echo', <long string>, [1, 2, {'a': 1}]]` in protocol 2 (no framing),
/// so that every cut is a different truncation.
fn echo_p2() -> Vec<u8> {
    let mut p = b"\x80\x02]q\x00(X\x04\x00\x00\x00echoq\x01X\x2c\x01\x00\x00".to_vec();
    p.extend(std::iter::repeat(b'x').take(300));
    p.extend_from_slice(b"q\x02]q\x03(K\x01K\x02}q\x04X\x01\x00\x00\x00aq\x05K\x01sea.");
    p
}

/// Nested lists (`[[[…]]]`), `n` deep.
fn nested_lists(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat(b']').take(n));
    p.extend(std::iter::repeat(b'a').take(n - 1));
    p.push(b'.');
    p
}

/// Nested dicts (`{0: {0: …}}`), `n` deep.
fn nested_dicts(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x02}".to_vec();
    for _ in 1..n {
        p.extend_from_slice(b"K\x00}");
    }
    p.extend(std::iter::repeat(b's').take(n - 1));
    p.push(b'.');
    p
}

/// Nested tuples through MARK (`((…),)`), `n` deep.
fn nested_tuples(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat(b'(').take(n));
    p.extend(std::iter::repeat(b't').take(n));
    p.push(b'.');
    p
}

/// `['echo', <nested lists>]`: a valid command whose answer nests as deep.
fn echo_nested(n: usize) -> Vec<u8> {
    let mut p = b"\x80\x02](X\x04\x00\x00\x00echo".to_vec();
    p.extend(std::iter::repeat(b']').take(n));
    p.extend(std::iter::repeat(b'a').take(n - 1));
    p.extend_from_slice(b"e.");
    p
}

/// Pickles that run `touch <marker>` when loaded by Python's unpickler, through the
/// opcodes that can call: GLOBAL+REDUCE (protocols 0 and 2, `os`, `posix`, `eval`,
/// `subprocess`), STACK_GLOBAL (protocol 4), INST, OBJ, and a REDUCE hidden inside an
/// otherwise valid command. Returns (name, bytes, marker).
fn code_pickles(root: &Path) -> Vec<(&'static str, Vec<u8>, PathBuf)> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, build: &dyn Fn(&str) -> Vec<u8>| {
        let marker = root.join(format!("pwned-{name}"));
        let command = format!("touch {}", marker.display());
        out.push((name, build(&command), marker));
    };
    add("p0-os-system", &|c| {
        format!("cos\nsystem\n(S'{c}'\ntR.").into_bytes()
    });
    add("p0-posix-system", &|c| {
        format!("cposix\nsystem\n(S'{c}'\ntR.").into_bytes()
    });
    add("p0-builtin-eval", &|c| {
        format!("c__builtin__\neval\n(S'__import__(\"os\").system(\"{c}\")'\ntR.").into_bytes()
    });
    add("p0-inst", &|c| {
        format!("(S'{c}'\nios\nsystem\n.").into_bytes()
    });
    add("p1-obj", &|c| {
        format!("(cos\nsystem\nS'{c}'\no.").into_bytes()
    });
    add("p2-subprocess-list", &|c| {
        let mut p = b"\x80\x02csubprocess\ncall\n](".to_vec();
        for w in ["sh", "-c", c] {
            p.push(b'X');
            p.extend_from_slice(&(w.len() as u32).to_le_bytes());
            p.extend_from_slice(w.as_bytes());
        }
        p.extend_from_slice(b"e\x85R.");
        p
    });
    add("p4-stack-global", &|c| {
        let mut p = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c".to_vec();
        p.push(c.len() as u8);
        p.extend_from_slice(c.as_bytes());
        p.extend_from_slice(b"\x85R.");
        p
    });
    add("p2-reduce-inside-command", &|c| {
        // ['echo', os.system(c)] built through a REDUCE inside a valid command list
        let mut p = b"\x80\x02](X\x04\x00\x00\x00echocos\nsystem\nX".to_vec();
        p.extend_from_slice(&(c.len() as u32).to_le_bytes());
        p.extend_from_slice(c.as_bytes());
        p.extend_from_slice(b"\x85Re.");
        p
    });
    out
}

/// Asserts the outcome of one hostile message: an error reply or a close, never a
/// successful reply and never a hang.
fn assert_refused(imp: Impl, what: &str, o: &Outcome) {
    match o {
        Outcome::Closed => {}
        Outcome::Timeout => panic!("{}: {what}: no reply and no close", imp.name()),
        Outcome::Reply(b) => match Reply::from_pickle(b) {
            Ok(Reply::LoadError(_)) | Ok(Reply::Err(_)) => {}
            other => panic!("{}: {what}: expected an error, got {other:?}", imp.name()),
        },
    }
}

/// The server still answers `status sshd` correctly on a fresh connection.
fn assert_alive(imp: Impl, d: &Daemon, after: &str) {
    let ok = matches!(
        call(d.sock(), &cmd(&["status", "sshd"])),
        Ok(Reply::Ok(Value::List(ref v))) if v.len() == 2
    );
    assert!(ok, "{}: server stopped answering after {after}", imp.name());
}

/// One message on a fresh connection.
fn one(d: &Daemon, payload: &[u8], with_end: bool) -> Outcome {
    let mut c = Conn::open(d.sock()).expect("connect");
    if with_end {
        c.exchange(payload)
    } else {
        c.send(payload);
        // shut our side down: the server sees EOF on a partial frame
        let _ = c.s.shutdown(std::net::Shutdown::Write);
        c.read_reply()
    }
}

fn hostile(imp: Impl) {
    if !Impl::Upstream.available() {
        return;
    }
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);

    for seed in 0..40u64 {
        let n = 1 + (seed as usize * 97) % 4096;
        let bytes = random_bytes(seed, n);
        assert_refused(imp, &format!("random {n} bytes"), &one(&d, &bytes, true));
    }
    // random bytes that start like a protocol-5 pickle
    for seed in 0..20u64 {
        let mut bytes = b"\x80\x05\x95".to_vec();
        bytes.extend(random_bytes(1000 + seed, 64));
        assert_refused(imp, "random pickle body", &one(&d, &bytes, true));
    }
    assert_alive(imp, &d, "random bytes");

    for full in [STATUS_SSHD.to_vec(), echo_p2()] {
        for cut in 0..full.len() {
            let what = format!("truncated at {cut}/{}", full.len());
            assert_refused(imp, &what, &one(&d, &full[..cut], true));
        }
        // partial frames without the end marker, then EOF: nothing to answer
        for cut in [1, full.len() / 2, full.len() - 1] {
            let o = one(&d, &full[..cut], false);
            assert!(
                matches!(o, Outcome::Closed),
                "{}: partial frame then EOF: {o:?}",
                imp.name()
            );
        }
    }
    assert_alive(imp, &d, "truncated frames");

    // oversized: 20 MiB of junk with and without the end marker
    let big = vec![b'A'; 20 << 20];
    assert_refused(imp, "20 MiB frame", &one(&d, &big, true));
    {
        // a frame that never ends must not block other clients
        let mut c = Conn::open(d.sock()).unwrap();
        c.send(&big[..8 << 20]);
        assert_alive(imp, &d, "an unterminated 8 MiB frame (still open)");
        c.send(&big[..12 << 20]);
        drop(c);
    }
    {
        // 80 MiB without an end marker, then EOF: a size limit (ours: 64 MiB) may
        // answer and close early, upstream buffers it all; neither may hang
        let huge = vec![b'B'; 80 << 20];
        let mut c = Conn::open(d.sock()).unwrap();
        c.send(&huge);
        let _ = c.s.shutdown(std::net::Shutdown::Write);
        assert_refused(imp, "80 MiB unterminated frame", &c.read_reply());
    }
    assert_alive(imp, &d, "oversized frames");

    for (what, p) in [
        ("nested lists 1000", nested_lists(1000)),
        ("nested lists 200000", nested_lists(200_000)),
        ("nested dicts 100000", nested_dicts(100_000)),
        ("nested tuples 100000", nested_tuples(100_000)),
        ("echo of nested lists 5000", echo_nested(5000)),
    ] {
        assert_refused(imp, what, &one(&d, &p, true));
    }
    assert_alive(imp, &d, "deeply nested pickles");

    let pickles = code_pickles(&setup.root);
    for (name, p, _) in &pickles {
        let o = one(&d, p, true);
        match imp {
            // upstream runs the payload, then answers whatever the result makes of it
            Impl::Upstream => assert_ne!(o, Outcome::Timeout, "{name}"),
            Impl::Ours => assert_refused(imp, name, &o),
        }
    }
    assert_alive(imp, &d, "code-execution pickles");
    // give a (wrongly) spawned command time to leave its marker
    std::thread::sleep(Duration::from_millis(300));
    let ran: Vec<&str> = pickles
        .iter()
        .filter(|(_, _, m)| m.exists())
        .map(|(n, _, _)| *n)
        .collect();
    match imp {
        Impl::Upstream => assert_eq!(
            ran.len(),
            pickles.len(),
            "harness check: Python's unpickler should have run every payload, ran only {ran:?}"
        ),
        Impl::Ours => assert!(ran.is_empty(), "our server executed {ran:?}"),
    }
}

#[test]
fn hostile_input_upstream_harness_check() {
    hostile(Impl::Upstream);
}

#[test]
fn hostile_input_ours() {
    hostile(Impl::Ours);
}

/// 200 clients, each looping connect / `status sshd` / close for 30 s. Every request
/// must get the same, complete answer; every client must be served at least once.
fn concurrent(imp: Impl) {
    if !Impl::Upstream.available() {
        return;
    }
    let _g = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);
    let mut c = Conn::open(d.sock()).unwrap();
    let Outcome::Reply(reference) = c.exchange(STATUS_SSHD) else {
        panic!("{}: no reference reply", imp.name());
    };
    c.close();
    let reference = Arc::new(reference);
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let total = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(30);
    let sock = d.sock().to_path_buf();
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let (reference, failures, total, sock) = (
                reference.clone(),
                failures.clone(),
                total.clone(),
                sock.clone(),
            );
            std::thread::spawn(move || {
                let mut served = 0usize;
                while Instant::now() < deadline {
                    let r = Conn::open(&sock).map(|mut c| {
                        let mut m = STATUS_SSHD.to_vec();
                        m.extend_from_slice(END);
                        let o = if c.send(&m) {
                            c.read_reply()
                        } else {
                            Outcome::Closed
                        };
                        c.close();
                        o
                    });
                    match r {
                        Ok(Outcome::Reply(b)) if b == *reference => served += 1,
                        other => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("client {i}: {other:?}"));
                            break;
                        }
                    }
                }
                total.fetch_add(served, Ordering::Relaxed);
                served
            })
        })
        .collect();
    let served: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let failures = failures.lock().unwrap();
    let n = total.load(Ordering::Relaxed);
    eprintln!(
        "{}: {n} requests served in 30 s by 200 clients ({:.0}/s), min per client {}",
        imp.name(),
        n as f64 / 30.0,
        served.iter().min().unwrap()
    );
    assert!(
        failures.is_empty(),
        "{}: {} failed requests, first: {:?}",
        imp.name(),
        failures.len(),
        failures.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        served.iter().all(|&s| s > 0),
        "{}: a client was never served",
        imp.name()
    );
    assert_alive(imp, &d, "the load");
}

#[test]
fn concurrent_clients_upstream_harness_check() {
    concurrent(Impl::Upstream);
}

#[test]
fn concurrent_clients_ours() {
    concurrent(Impl::Ours);
}

/// 64 connections that stay open and silent (half of them after a partial frame) must
/// not lock other clients out: a fresh `status sshd` is answered within 10 s while they
/// are still open.
fn idle_connections(imp: Impl) {
    if !Impl::Upstream.available() {
        return;
    }
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);
    let idle: Vec<Conn> = (0..64)
        .map(|i| {
            let mut c = Conn::open(d.sock()).expect("connect");
            if i % 2 == 1 {
                c.send(&STATUS_SSHD[..7]);
            }
            c
        })
        .collect();
    let sock = d.sock().to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(call(&sock, &cmd(&["status", "sshd"])).is_ok());
    });
    let answered = rx.recv_timeout(Duration::from_secs(10));
    drop(idle);
    assert_eq!(
        answered,
        Ok(true),
        "{}: a client was not served while 64 idle connections were open",
        imp.name()
    );
    assert_alive(imp, &d, "idle connections");
}

#[test]
fn idle_connections_upstream_harness_check() {
    idle_connections(Impl::Upstream);
}

#[test]
fn idle_connections_ours() {
    idle_connections(Impl::Ours);
}

//! Raw-protocol differential (issue 5): requests the command line cannot express (list
//! and dict arguments: `server-stream`, `multi-set`, `set thread`, `reload` with a stream,
//! typed `echo`) and the transport rules (several requests per connection, fragments,
//! the close message) give the same decoded replies from our server as from Debian's.
//!
//! The requests are pickled by Debian's Python (`pickle.dumps(x, 5)`, what the real
//! client sends), not by the codec under test.

use compat_tests::socket::{both, Conn, Daemon, Impl, Outcome, Setup, CLOSE, END};
use f2b_protocol::Reply;
use std::process::{Command, Stdio};

/// Python literals, sent in order on one connection. `{dir}` is the scratch directory.
const REQUESTS: &[&str] = &[
    "['ping']",
    "['ping', 0.1]",
    "['echo', 1, 2.5, True, None, [1, 'a'], {'k': 'v'}, -7, 10**20]",
    "['echo']",
    "[]",
    "[42]",
    "['version']",
    "['server-status']",
    "['status']",
    "['status', 'sshd']",
    "['status', 'sshd', 'short']",
    "['server-stream', [['set', 'sshd', 'maxretry', 7], ['set', 'sshd', 'findtime', 900], ['get', 'sshd', 'maxretry']]]",
    "['get', 'sshd', 'maxretry']",
    "['get', 'sshd', 'findtime']",
    "['server-stream', [['frobnicate'], ['set', 'sshd', 'maxretry', 8]]]",
    "['get', 'sshd', 'maxretry']",
    "['set', 'sshd', 'maxretry', 3]",
    "['set', 'sshd', 'bantime', 1200]",
    "['multi-set', 'sshd', 'addfailregex', ['^one <HOST>$', '^two <HOST>$']]",
    "['get', 'sshd', 'failregex']",
    "['multi-set', 'sshd', 'addignoreregex', ['^ok <HOST>$']]",
    "['get', 'sshd', 'ignoreregex']",
    "['multi-set', 'sshd', 'action', 'dummy', [['init', '999'], ['actionban', 'echo x <ip>']]]",
    "['get', 'sshd', 'action', 'dummy', 'init']",
    "['get', 'sshd', 'action', 'dummy', 'actionban']",
    "['set', 'sshd', 'action', 'dummy', 'flush']",
    "['set', 'thread', {'stacksize': 0}]",
    "['get', 'thread']",
    "['set', 'sshd', 'banip', '203.0.113.9', '2001:db8::9']",
    "['set', 'sshd', 'attempt', '203.0.113.44', 'failure one']",
    "['get', 'sshd', 'banned']",
    "['get', 'sshd', 'banned', '203.0.113.9', '203.0.113.10']",
    "['banned']",
    "['banned', '203.0.113.9']",
    "['set', 'sshd', 'unbanip', '--report-absent', '9.9.9.9']",
    "['set', 'sshd', 'unbanip', '203.0.113.9']",
    "['status', 'nosuchjail']",
    "['frobnicate']",
    "['get', 'sshd', 'nosuch']",
    "['set', 'sshd', 'idle', 'maybe']",
    "['set', 'sshd', 'addlogpath', '{dir}/logs/auth2.log', 'middle']",
    "['add', '--all']",
    "['sleep', 0.01]",
    "['config-error', 'a message']",
    "['get', 'sshd', 'actionproperties', 'dummy']",
    "['status']",
    "['reload', '--all', [], [['start', 'sshd']]]",
    "['status']",
    "['unban', '--all']",
];

/// Pickles Python literals with Debian's Python, protocol 5 (hex per line).
fn py_pickles(literals: &[String]) -> Vec<Vec<u8>> {
    let script = "import ast, pickle, sys\n\
                  for line in sys.stdin.read().splitlines():\n    \
                  print(pickle.dumps(eval(line, {}), 5).hex())\n";
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run /usr/bin/python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(literals.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python pickling failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|h| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

/// Decoded reply, as text with the scratch dir masked.
fn shown(setup: &Setup, o: &Outcome) -> String {
    match o {
        Outcome::Reply(b) => match Reply::from_pickle(b) {
            Ok(r) => setup.normalize(&format!("{r:?}")),
            Err(e) => format!("undecodable reply {e:?}: {b:?}"),
        },
        other => format!("{other:?}"),
    }
}

/// Runs the requests against `imp` on one connection; returns one line per request.
fn run(imp: Impl) -> Vec<String> {
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);
    let reqs: Vec<String> = REQUESTS.iter().map(|r| setup.subst(r)).collect();
    let pickles = py_pickles(&reqs);
    let mut c = Conn::open(d.sock()).unwrap();
    REQUESTS
        .iter()
        .zip(&pickles)
        .map(|(r, p)| format!("{r} -> {}", shown(&setup, &c.exchange(p))))
        .collect()
}

#[test]
fn typed_requests_get_the_same_replies() {
    if !Impl::Upstream.available() {
        return;
    }
    let (theirs, ours) = both(|| run(Impl::Upstream), || run(Impl::Ours));
    // the harness must see real answers, not transport failures
    assert!(theirs
        .iter()
        .all(|l| !l.ends_with("Closed") && !l.ends_with("Timeout")));
    let diffs: Vec<String> = theirs
        .iter()
        .zip(&ours)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("- upstream: {a}\n+ ours:     {b}"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} of {} replies differ:\n{}",
        diffs.len(),
        REQUESTS.len(),
        diffs.join("\n")
    );
}

/// Several requests in one write, a request in 3-byte fragments, then the close
/// message: replies come in order, the fragmented one is answered, and the server
/// closes the connection after the close message.
fn transport(imp: Impl) -> Vec<String> {
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);
    let p = py_pickles(&[
        "['echo', 'first']".into(),
        "['echo', 'second']".into(),
        "['get', 'sshd', 'maxretry']".into(),
        "['echo', 'fragmented']".into(),
    ]);
    let mut c = Conn::open(d.sock()).unwrap();
    let mut burst = Vec::new();
    for m in &p[..3] {
        burst.extend_from_slice(m);
        burst.extend_from_slice(END);
    }
    assert!(c.send(&burst));
    let mut out: Vec<String> = (0..3).map(|_| shown(&setup, &c.read_reply())).collect();
    let mut frag = p[3].clone();
    frag.extend_from_slice(END);
    for chunk in frag.chunks(3) {
        assert!(c.send(chunk));
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    out.push(shown(&setup, &c.read_reply()));
    assert!(c.send(CLOSE));
    out.push(format!("after close: {:?}", c.read_reply()));
    out
}

#[test]
fn pipelined_fragmented_and_closed_like_upstream() {
    if !Impl::Upstream.available() {
        return;
    }
    let (theirs, ours) = both(|| transport(Impl::Upstream), || transport(Impl::Ours));
    assert_eq!(theirs.last().unwrap(), "after close: Closed");
    assert_eq!(ours, theirs);
}

/// Non-loopback IPv4 addresses of this host's interfaces.
fn interface_ipv4() -> Vec<std::net::Ipv4Addr> {
    let mut out = Vec::new();
    // SAFETY: getifaddrs fills a list that is walked read-only and freed once.
    unsafe {
        let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut head) != 0 {
            return out;
        }
        let mut p = head;
        while !p.is_null() {
            let a = (*p).ifa_addr;
            if !a.is_null() && (*a).sa_family as i32 == libc::AF_INET {
                let sin = &*(a as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !ip.is_loopback() {
                    out.push(ip);
                }
            }
            p = (*p).ifa_next;
        }
        libc::freeifaddrs(head);
    }
    out
}

/// Addresses `localhost` and the host name resolve to (upstream's `getSelfIPs`).
fn name_ips() -> Vec<std::net::IpAddr> {
    use std::net::ToSocketAddrs;
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is large enough and NUL-terminated by gethostname on success.
    let host = unsafe {
        libc::gethostname(buf.as_mut_ptr().cast(), buf.len());
        std::ffi::CStr::from_ptr(buf.as_ptr().cast())
            .to_string_lossy()
            .into_owned()
    };
    ["localhost".to_string(), host]
        .iter()
        .flat_map(|n| (n.as_str(), 0u16).to_socket_addrs().into_iter().flatten())
        .map(|sa| sa.ip())
        .collect()
}

/// `ignoreself` means the addresses the host *names* resolve to (`localhost`, host
/// name, FQDN), not every interface address: a failure from an interface address that
/// no host name resolves to is counted (`attempt` answers 1), like upstream.
#[test]
fn ignoreself_is_by_host_names_not_interfaces() {
    if !Impl::Upstream.available() {
        return;
    }
    let names = name_ips();
    let Some(ip) = interface_ipv4()
        .into_iter()
        .find(|ip| !names.contains(&std::net::IpAddr::V4(*ip)))
    else {
        eprintln!("SKIP: every interface address is also a host-name address here");
        return;
    };
    let req = format!("['set', 'sshd', 'attempt', '{ip}', 'failure from own interface']");
    let r2 = req.clone();
    let (theirs, ours) = both(
        move || one_reply(Impl::Upstream, &req),
        move || one_reply(Impl::Ours, &r2),
    );
    assert_eq!(theirs, "Ok(Int(1))", "harness check: upstream counts {ip}");
    assert_eq!(ours, theirs, "attempt from interface address {ip}");
}

/// The decoded reply to one request (a Python literal) on a fresh server.
fn one_reply(imp: Impl, literal: &str) -> String {
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);
    let p = py_pickles(&[literal.to_string()]);
    let mut c = Conn::open(d.sock()).unwrap();
    shown(&setup, &c.exchange(&p[0]))
}

//! Replays a real fail2ban 1.0.2 client/server session captured with a logging proxy
//! (tests/data/wire_captures.jsonl, made by tools/gen_wire_captures.py): every
//! request decodes and parses, every reply decodes, our encoding of each reply is
//! byte-identical to the real server's (unless the server shared objects through the
//! memo), and our beautifier prints what the real client printed.

use f2b_protocol::beautify::{beautify, beautify_error};
use f2b_protocol::pickle::{decode, encode, DecodeMode};
use f2b_protocol::{Reply, Request, Value};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn captured_session_replays() {
    let data = include_str!("data/wire_captures.jsonl");
    let (mut exact, mut outputs, mut total, mut exact_requests) = (0, 0, 0, 0);
    for line in data.lines() {
        total += 1;
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let req = unhex(rec["request"].as_str().unwrap());
        let rep = unhex(rec["reply"].as_str().unwrap());
        let cmd = decode(&req, DecodeMode::Request).unwrap();
        // Our client's encoding of the same command is the real client's bytes
        // (unless CPython shared interned strings through the memo).
        if encode(&cmd) == req {
            exact_requests += 1;
        }
        let reply = Reply::from_pickle(&rep).unwrap();
        if let Err(e) = Request::from_value(&cmd) {
            // Refused while parsing: exactly the server's error reply.
            assert_eq!(
                Reply::Err(e.into_exception()).to_pickle(),
                rep,
                "{}",
                cmd.repr()
            );
        }
        let ours = reply.to_pickle();
        if ours == rep {
            exact += 1;
        } else {
            // Shared objects (memo GETs) in the original: same value, different bytes.
            assert_eq!(
                decode(&ours, DecodeMode::Reply),
                decode(&rep, DecodeMode::Reply)
            );
        }
        let (Some(argv), Some(output)) = (rec["argv"].as_array(), rec["output"].as_str()) else {
            continue;
        };
        outputs += 1;
        let argv: Vec<Value> = argv
            .iter()
            .map(|a| Value::str(a.as_str().unwrap()))
            .collect();
        match &reply {
            Reply::Ok(v) => assert_eq!(beautify(&argv, v, true).text, output, "{argv:?}"),
            // stderr log lines come first; the last line is what beautifyError printed.
            Reply::Err(e) => assert_eq!(beautify_error(e), output.lines().last().unwrap()),
            Reply::LoadError(_) => panic!("unexpected load error"),
        }
    }
    assert_eq!(total, 27);
    assert_eq!(exact_requests, 27, "byte-exact requests");
    assert_eq!(exact, 22, "byte-exact replies");
    assert!(outputs >= 25, "outputs checked: {outputs}");
}

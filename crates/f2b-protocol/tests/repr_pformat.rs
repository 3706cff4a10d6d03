//! Differential test: `Value::repr`, `Value::str_` and `Value::pformat` against
//! python3's `repr`, `str` and `pprint.pformat` on random nested values.

mod common;

use common::{oracle, python, random_value, to_json, Rng, PY_DECODE};
use f2b_protocol::Value;

/// (indent, width) pairs: fail2ban-client --dp uses (2, 1000); small widths stress wrapping.
const LAYOUTS: &[(usize, usize)] = &[(2, 1000), (1, 80), (2, 40), (4, 20), (1, 7), (3, 60)];

fn check(values: &[Value]) {
    let input: String = values
        .iter()
        .map(|v| to_json(v).to_string() + "\n")
        .collect();
    let script = format!(
        "{PY_DECODE}\nimport sys, pprint\nL = {LAYOUTS:?}\nfor line in sys.stdin:\n    \
         v = dec(json.loads(line))\n    out = [repr(v), str(v)] + [pprint.pformat(v, indent=i, width=w) for i, w in L]\n    \
         sys.stdout.write(json.dumps(out) + '\\n')\n"
    );
    let out = python(&script, input.as_bytes());
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), values.len());
    for (v, line) in values.iter().zip(lines) {
        let want: Vec<String> = serde_json::from_str(line).unwrap();
        assert_eq!(v.repr(), want[0], "repr of {v:?}");
        assert_eq!(v.str_(), want[1], "str of {v:?}");
        for (n, &(indent, width)) in LAYOUTS.iter().enumerate() {
            assert_eq!(
                v.pformat(indent, width),
                want[2 + n],
                "pformat(indent={indent}, width={width}) of {v:?}"
            );
        }
    }
}

#[test]
fn random_values_match_python() {
    if !oracle() {
        return;
    }
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let values: Vec<Value> = (0..2000).map(|_| random_value(&mut r, 4)).collect();
    check(&values);
}

#[test]
fn fixed_values_match_python() {
    if !oracle() {
        return;
    }
    let long = "^User <F-USER>\\S+|.*?</F-USER> from <HOST> not allowed because none of user's groups are listed in AllowGroups".repeat(12);
    let values = vec![
        Value::list(["set", "sshd", "maxlines"]),
        Value::list(vec![
            Value::str("multi-set"),
            Value::str("sshd"),
            Value::str("addfailregex"),
            Value::list([long.as_str(), "x"]),
        ]),
        Value::Str(long.clone()),
        Value::Float(1e16),
        Value::Float(-1.5e-7),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NAN),
        Value::BigInt("-123456789012345678901234567890".into()),
        Value::tuple([1]),
        Value::Tuple(vec![]),
        Value::Dict(vec![]),
        Value::Set(vec![]),
        Value::FrozenSet(vec![]),
        Value::Set(vec![Value::Int(3)]),
        Value::ByteArray(b"0123456789 abcdefghij\n\x00klmnopqrstuvwxyz".repeat(3)),
        Value::Bytes(b"0123456789 abcdefghij\n\x00klmnopqrstuvwxyz".repeat(3)),
        Value::Exception {
            module: "fail2ban.exceptions".into(),
            class: "UnknownJailException".into(),
            args: vec!["nojail".into()],
        },
        Value::Exception {
            module: "builtins".into(),
            class: "ValueError".into(),
            args: vec!["a".into(), Value::Int(2)],
        },
        Value::Exception {
            module: "builtins".into(),
            class: "Exception".into(),
            args: vec![],
        },
        Value::dict([("b", Value::Int(1)), ("a", Value::list([long.as_str()]))]),
    ];
    check(&values);
}

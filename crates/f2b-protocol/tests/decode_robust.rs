//! The decoder never panics and stays within its limits on hostile input: random
//! bytes, mutated and truncated valid pickles, deep nesting and shared-reference bombs.

use f2b_protocol::pickle::{
    decode, decode_with_limits, encode, DecodeErrorKind, DecodeMode, Limits,
};
use f2b_protocol::Value;
use proptest::prelude::*;

mod common;

fn sample() -> Vec<u8> {
    encode(&Value::list(vec![
        Value::str("set"),
        Value::str("sshd"),
        Value::dict([("a", Value::Int(1)), ("b", Value::Float(2.5))]),
        Value::tuple([
            Value::Int(-70000),
            Value::BigInt("123456789012345678901234567890".into()),
        ]),
        Value::Bytes(b"xyz".to_vec()),
        Value::FrozenSet(vec![Value::Int(3)]),
        Value::Set(vec![Value::Bool(true)]),
    ]))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(&data, DecodeMode::Request);
        let _ = decode(&data, DecodeMode::Reply);
    }

    #[test]
    fn mutated_pickles_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let mut data = sample();
        for (i, b) in edits {
            let n = data.len();
            data[i % n] = b;
        }
        let cut = cut % (data.len() + 1);
        let _ = decode(&data[..cut], DecodeMode::Request);
        let _ = decode(&data, DecodeMode::Reply);
    }

    #[test]
    fn opcode_soup_never_panics(ops in proptest::collection::vec(prop::sample::select(vec![
        b'(', b'.', b'0', b'1', b'2', b'N', b'a', b'e', b's', b'u', b't', b'l', b'd', b']', b')', b'}',
        0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x94, b'R', b'b', 0x93, b'K', b'h',
    ]), 0..200)) {
        let mut data = vec![0x80, 5];
        for o in ops {
            data.push(o);
            if o == b'K' || o == b'h' { data.push(0); }
        }
        data.push(b'.');
        let _ = decode(&data, DecodeMode::Request);
        let _ = decode(&data, DecodeMode::Reply);
    }
}

#[test]
fn every_truncation_is_an_error() {
    let data = sample();
    assert!(decode(&data, DecodeMode::Request).is_ok());
    for cut in 0..data.len() {
        let e = decode(&data[..cut], DecodeMode::Request).unwrap_err();
        assert!(
            matches!(e.kind(), DecodeErrorKind::Truncated | DecodeErrorKind::Eof),
            "{cut}: {e}"
        );
    }
}

#[test]
fn deep_nesting_is_refused() {
    for n in [2_000usize, 200_000] {
        // ] ] ] ... a a a: lists nested n deep.
        let mut lists = vec![0x80, 5];
        lists.extend(std::iter::repeat(b']').take(n));
        lists.extend(std::iter::repeat(b'a').take(n - 1));
        lists.push(b'.');
        let e = decode(&lists, DecodeMode::Request).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::Limit);
        // N TUPLE1 TUPLE1 ... used as a dict key: hashing is bounded too.
        let mut tuples = vec![0x80, 5, b'}', b'N'];
        tuples.extend(std::iter::repeat(0x85).take(n));
        tuples.extend([b'N', b's', b'.']);
        let e = decode(&tuples, DecodeMode::Request).unwrap_err();
        assert_eq!(e.kind(), DecodeErrorKind::Limit);
        // MARK floods.
        let mut marks = vec![0x80, 5];
        marks.extend(std::iter::repeat(b'(').take(n));
        marks.extend([b'N', b'.']);
        assert!(decode(&marks, DecodeMode::Request).is_ok());
    }
    // Within the limit it works.
    let mut ok = vec![0x80, 5];
    ok.extend(std::iter::repeat(b']').take(100));
    ok.extend(std::iter::repeat(b'a').take(99));
    ok.push(b'.');
    assert!(decode(&ok, DecodeMode::Request).is_ok());
}

#[test]
fn self_reference_and_reference_bombs_are_bounded() {
    // A list containing itself: l = []; l.append(l).
    let cyclic = [0x80, 5, b']', 0x94, b'h', 0, b'a', b'.'];
    let e = decode(&cyclic, DecodeMode::Request).unwrap_err();
    assert_eq!(e.kind(), DecodeErrorKind::Limit);
    // Billion laughs: each level is a list of 10 references to the previous level.
    let mut bomb = vec![0x80, 5, b']', 0x94];
    for level in 0..9u8 {
        bomb.extend([b']', 0x94, b'(']);
        bomb.extend(std::iter::repeat([b'h', level]).take(10).flatten());
        bomb.push(b'e');
        let _ = level;
    }
    bomb.push(b'.');
    let small = Limits {
        max_values: 100_000,
        ..Limits::default()
    };
    let e = decode_with_limits(&bomb, DecodeMode::Request, &small).unwrap_err();
    assert_eq!(e.kind(), DecodeErrorKind::Limit);
    // A 60 KiB string referenced 100k times exceeds the byte budget.
    let mut strs = vec![0x80, 5, b'X'];
    strs.extend((60_000u32).to_le_bytes());
    strs.extend(std::iter::repeat(b'a').take(60_000));
    strs.extend([0x94, b']', b'(']);
    strs.extend(std::iter::repeat([b'h', 0]).take(100_000).flatten());
    strs.extend([b'e', b'.']);
    let e = decode(&strs, DecodeMode::Request).unwrap_err();
    assert_eq!(e.kind(), DecodeErrorKind::Limit);
}

#[test]
fn memo_and_long_limits() {
    let small = Limits {
        max_memo: 10,
        ..Limits::default()
    };
    let mut memo = vec![0x80, 5, b']'];
    memo.extend(std::iter::repeat(0x94).take(20));
    memo.push(b'.');
    assert_eq!(
        decode_with_limits(&memo, DecodeMode::Request, &small)
            .unwrap_err()
            .kind(),
        DecodeErrorKind::Limit
    );
    let mut long = vec![0x80, 5, 0x8b];
    long.extend(100_000u32.to_le_bytes());
    long.extend(std::iter::repeat(0x11).take(100_000));
    long.push(b'.');
    assert_eq!(
        decode(&long, DecodeMode::Request).unwrap_err().kind(),
        DecodeErrorKind::Limit
    );
    // A length field far beyond the data is a truncation, not an allocation.
    let huge = [
        0x80, 5, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, b'.',
    ];
    assert_eq!(
        decode(&huge, DecodeMode::Request).unwrap_err().kind(),
        DecodeErrorKind::Truncated
    );
}

#[test]
fn encode_then_decode_is_identity() {
    let mut r = common::Rng(42);
    for _ in 0..3000 {
        let v = common::random_value(&mut r, 5);
        assert_eq!(decode(&encode(&v), DecodeMode::Request).unwrap(), v);
    }
}

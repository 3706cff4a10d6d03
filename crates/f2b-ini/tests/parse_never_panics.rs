//! Property test: the ini layer never panics, whatever the input (bounded number of
//! cases so it stays quick in CI). Parsing, merging, listing and interpolating every
//! option must return `Ok` or `Err`, never unwind.

use std::sync::Arc;

use f2b_ini::{parse_str, Config};
use proptest::prelude::*;

/// Text built from the dialect's significant pieces, so the parser's branches are
/// reached far more often than with uniformly random strings.
fn ini_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("[".to_string()),
        Just("]".to_string()),
        Just("[DEFAULT]\n".to_string()),
        Just("[INCLUDES]\n".to_string()),
        Just("[Init?family=inet6]\n".to_string()),
        Just("=".to_string()),
        Just(":".to_string()),
        Just(";".to_string()),
        Just("#".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("%".to_string()),
        Just("%%".to_string()),
        Just("%(".to_string()),
        Just(")s".to_string()),
        Just("%(a)s".to_string()),
        Just("%(__name__)s".to_string()),
        Just("%(known/a)s".to_string()),
        Just("%(default/b)s".to_string()),
        Just("%(s/a)s".to_string()),
        Just("a".to_string()),
        Just("B".to_string()),
        Just("s".to_string()),
        Just("é".to_string()),
        Just("\u{feff}".to_string()),
        "[a-zA-Z0-9_ ]{0,6}",
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn exercise(text: &str) {
    let name: Arc<str> = Arc::from("/fuzz/test.conf");
    let Ok(file) = parse_str(text, &name) else {
        return;
    };
    let mut cfg = Config::new();
    cfg.merge_file(&file);
    cfg.merge_file(&file);
    let sections: Vec<String> = cfg.sections().cloned().collect();
    for sec in sections
        .iter()
        .map(String::as_str)
        .chain(["DEFAULT", "missing"])
    {
        let opts = cfg.options(sec, true).unwrap_or_default();
        for opt in opts.iter().map(String::as_str).chain(["known/a", "nope"]) {
            let _ = cfg.get(sec, opt, &[("a".into(), "%(b)s".into())]);
            let _ = cfg.get_ex(sec, opt, &[]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_ini_like_text(text in ini_like()) {
        exercise(&text);
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        exercise(&text);
    }
}

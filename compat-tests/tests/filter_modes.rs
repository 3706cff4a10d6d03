//! Every stock filter in every mode it defines loads (our config reader) and
//! compiles (our filter engine). A filter's modes are the suffixes of options
//! referenced as `<prefix-<mode>>` (e.g. `mdre-aggressive` for `<mdre-<mode>>`).

use std::collections::BTreeSet;
use std::path::Path;

use compat_tests::{require_oracle, STOCK_CONF};

/// Mode names defined by a filter file's text.
fn modes(text: &str) -> BTreeSet<String> {
    let mut prefixes = BTreeSet::new();
    let mut rest = text;
    while let Some(p) = rest.find("-<mode>>") {
        let head = &rest[..p];
        if let Some(open) = head.rfind('<') {
            prefixes.insert(head[open + 1..].to_string());
        }
        rest = &rest[p + 8..];
    }
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        for p in &prefixes {
            if let Some(m) = key
                .strip_prefix(p.as_str())
                .and_then(|r| r.strip_prefix('-'))
            {
                if !m.is_empty() && m.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    out.insert(m.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_stock_filter_in_every_mode_compiles() {
    if !require_oracle(STOCK_CONF) {
        return;
    }
    let dir = Path::new(STOCK_CONF).join("filter.d");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("filter.d")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // *common.conf are include-only (upstream's sample test skips them too)
        .filter(|n| n.ends_with(".conf") && !n.ends_with("common.conf"))
        .collect();
    names.sort();
    let (mut ok, mut errors) = (0, Vec::new());
    for n in names {
        let name = n.trim_end_matches(".conf");
        let text = std::fs::read_to_string(dir.join(&n)).unwrap_or_default();
        let mut specs = vec![name.to_string()];
        specs.extend(
            modes(&text)
                .into_iter()
                .map(|m| format!("{name}[mode={m}]")),
        );
        for spec in specs {
            let def = match f2b_config::read_filter(Path::new(STOCK_CONF), &spec, &[]) {
                Ok(d) => d,
                Err(e) => {
                    errors.push(format!("{spec}: read: {e}"));
                    continue;
                }
            };
            let built = f2b_filter::FilterBuilder::new()
                .prefregex(def.prefregex.as_deref())
                .failregexes(&def.failregex)
                .ignoreregexes(&def.ignoreregex)
                .maxlines(def.maxlines.unwrap_or(1))
                .datepattern(def.datepattern.as_deref())
                .build();
            match built {
                Ok(_) => ok += 1,
                Err(e) => errors.push(format!("{spec}: compile: {e}")),
            }
        }
    }
    println!("{ok} filter/mode combinations load and compile");
    for e in &errors {
        println!("FAIL {e}");
    }
    assert!(errors.is_empty(), "{} combinations fail", errors.len());
    assert!(ok > 100, "too few combinations found: {ok}");
}

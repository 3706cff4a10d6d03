//! `fail2ban-client -d` / `--dp` on real data: Debian's stock configuration (copied to
//! a temp dir at test time, every jail enabled) dumped by the real client. Our
//! `repr()` of each command must equal its `-d` line and our `pformat(2, 1000)` of the
//! whole stream must equal the `--dp` output, byte for byte.

mod common;

use common::{from_json, oracle, python, PY_ENCODE};
use std::process::Command;

const CLIENT: &str = "/usr/bin/fail2ban-client";

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else if let Ok(data) = std::fs::read(e.path()) {
            std::fs::write(to, data).unwrap();
        }
    }
}

#[test]
fn dump_and_pretty_dump_of_stock_config() {
    if !oracle() {
        return;
    }
    let stock = std::path::Path::new("/etc/fail2ban");
    if !stock.join("jail.conf").exists() {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "/etc/fail2ban missing under CI"
        );
        eprintln!("SKIP: /etc/fail2ban missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_dir(stock, dir.path());
    std::fs::write(dir.path().join("jail.local"), "[DEFAULT]\nenabled = true\n").unwrap();
    let run = |flag: &str| {
        let out = Command::new(CLIENT)
            .arg("-c")
            .arg(dir.path())
            .arg(flag)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run("-d");
    let pretty = run("--dp");
    // python turns each `-d` line (a repr) back into data for us.
    let script = format!(
        "{PY_ENCODE}\nimport sys, ast, json\nfor line in sys.stdin:\n    print(json.dumps(enc(ast.literal_eval(line))))\n"
    );
    let json = String::from_utf8(python(&script, plain.as_bytes())).unwrap();
    let values: Vec<_> = json
        .lines()
        .map(|l| from_json(&serde_json::from_str(l).unwrap()))
        .collect();
    assert!(values.len() > 500, "only {} commands", values.len());
    for (v, line) in values.iter().zip(plain.lines()) {
        assert_eq!(v.repr(), line);
    }
    let ours: String = values.iter().map(|v| v.pformat(2, 1000) + "\n").collect();
    assert_eq!(ours, pretty);
}

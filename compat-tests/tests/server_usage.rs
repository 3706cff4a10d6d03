//! `fail2ban-server -h` prints upstream's usage text (its options block is
//! shared with fail2ban-client: `f2b_config::cmdline::OPTIONS_HELP`).

use std::process::Command;

use compat_tests::require_oracle;

const ORACLE: &str = "/usr/bin/fail2ban-server";

#[test]
fn help_text_equals_upstream() {
    if !require_oracle(ORACLE) {
        return;
    }
    let run = |bin: &std::path::Path| {
        let out = Command::new(bin).arg("-h").output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let want = run(std::path::Path::new(ORACLE));
    let got = run(&compat_tests::bin("fail2ban-server"));
    assert!(want.1.contains("Options:"), "{}", want.1);
    assert_eq!(got, want);
}

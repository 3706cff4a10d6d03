//! Only root may use the control socket (issue 5). A forked child that dropped to
//! `nobody` (uid/gid 65534, no supplementary groups) tries to connect and send `ping`.
//!
//! The scratch root is 0755 and the server creates the socket directory itself, so the
//! file modes are exactly what the server makes of them. Three layers are checked:
//! 1. as created (directory 0700, socket 0700, like upstream's umask 077): `EACCES`;
//! 2. directory opened to 0755: the socket's own mode still gives `EACCES`;
//! 3. socket and directory 0777: only a peer-credential check (`SO_PEERCRED`) can still
//!    refuse. Upstream has none and serves the peer: its variant asserts exactly that,
//!    which proves the probe can see a served request. Refusing here is a requirement on
//!    our server only (a closed connection or an error reply, no `pong`, no hang).
//!
//! A root probe must be served in every case (the probe itself works).

use compat_tests::e2e::need_root;
use compat_tests::socket::{pings, probe_as, Daemon, Impl, Probe, Setup};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const NOBODY: u32 = 65534;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn check(imp: Impl) {
    if !Impl::Upstream.available() || !need_root("the dropped-uid socket test") {
        return;
    }
    let setup = Setup::new();
    let d = Daemon::start(imp, &setup);
    let run_dir = setup.sock.parent().unwrap();
    let n = imp.name();
    assert_eq!(mode(run_dir), 0o700, "{n}: socket directory mode");
    assert_eq!(mode(&setup.sock), 0o700, "{n}: socket mode");
    assert_eq!(
        probe_as(0, 0, &setup.sock),
        Probe::Served,
        "{n}: root probe"
    );

    assert_eq!(
        probe_as(NOBODY, NOBODY, &setup.sock),
        Probe::Denied,
        "{n}: as created"
    );

    chmod(run_dir, 0o755);
    assert_eq!(
        probe_as(NOBODY, NOBODY, &setup.sock),
        Probe::Denied,
        "{n}: dir 0755"
    );

    chmod(run_dir, 0o777);
    chmod(&setup.sock, 0o777);
    let p = probe_as(NOBODY, NOBODY, &setup.sock);
    eprintln!("{n}: nobody on a 0777 socket: {p:?}");
    match imp {
        Impl::Upstream => assert_eq!(
            p,
            Probe::Served,
            "harness check: upstream has no peer check and should serve a 0777 socket"
        ),
        Impl::Ours => assert!(
            p.refused(),
            "ours: a non-root peer on a 0777 socket must be refused by SO_PEERCRED, got {p:?}"
        ),
    }
    assert_eq!(
        probe_as(0, 0, &setup.sock),
        Probe::Served,
        "{n}: root after chmod"
    );
    assert!(pings(&setup.sock), "{n}: server still answers");
    drop(d);
}

#[test]
fn non_root_refused_upstream_harness_check() {
    check(Impl::Upstream);
}

#[test]
fn non_root_refused_ours() {
    check(Impl::Ours);
}

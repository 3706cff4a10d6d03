//! Links `fail2ban-client` statically (static PIE) on glibc targets: it is a short-lived
//! process (`-d` on a large configuration runs in a few ms), and the dynamic loader's work
//! plus the three shared libraries' mappings cost about 0.4 ms and 40 page faults per run
//! (docs/benchmarks.md, "config -d"). The client needs no NSS lookup (no host, user or group
//! names), the one thing static glibc does badly. The server and fail2ban-regex stay dynamic.
//!
//! Cargo has no per-binary `crt-static`, so the build script passes `-static-pie` for this
//! binary alone and puts a directory first on the library path in which each library rustc
//! names for a dynamic link (`-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc`) is a static
//! archive: the linker finds those before the system's shared objects. If the static
//! libraries are not installed (or `F2B_CLIENT_DYNAMIC` is set), the client is linked
//! dynamically as before.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=F2B_CLIENT_DYNAMIC");
    let var = |k: &str| env::var(k).unwrap_or_default();
    if env::var_os("F2B_CLIENT_DYNAMIC").is_some()
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static")
    {
        return;
    }
    let out = PathBuf::from(var("OUT_DIR")).join("static-libs");
    match static_lib_dir(&out) {
        Some(dir) => {
            println!("cargo:rustc-link-arg-bin=fail2ban-client=-static-pie");
            println!(
                "cargo:rustc-link-arg-bin=fail2ban-client=-L{}",
                dir.display()
            );
        }
        None => {
            println!("cargo:warning=static glibc not found: fail2ban-client is linked dynamically")
        }
    }
}

/// The C compiler's path of a library file, if it knows one (it answers the bare name if not).
fn lib_path(cc: &str, name: &str) -> Option<PathBuf> {
    let out = Command::new(cc)
        .arg(format!("-print-file-name={name}"))
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && path.is_absolute() && path.exists()).then_some(path)
}

/// Fills `dir` with one linker script per library name, each naming the static archive(s).
fn static_lib_dir(dir: &Path) -> Option<PathBuf> {
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let eh = lib_path(&cc, "libgcc_eh.a")?;
    let gcc = lib_path(&cc, "libgcc.a")?;
    std::fs::create_dir_all(dir).ok()?;
    let mut libs = vec![(
        "gcc_s",
        format!("INPUT({} {})\n", eh.display(), gcc.display()),
    )];
    for name in ["util", "rt", "pthread", "m", "dl"] {
        let path = lib_path(&cc, &format!("lib{name}.a"))?;
        libs.push((name, format!("INPUT({})\n", path.display())));
    }
    // libc and the unwinder need each other; a group resolves that for any linker
    let c = lib_path(&cc, "libc.a")?;
    let group = format!(
        "GROUP({} {} {})\n",
        c.display(),
        eh.display(),
        gcc.display()
    );
    libs.push(("c", group));
    for (name, script) in libs {
        std::fs::write(dir.join(format!("lib{name}.a")), script).ok()?;
    }
    Some(dir.to_path_buf())
}

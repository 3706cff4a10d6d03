//! The command line of `fail2ban-server` (upstream `Fail2banCmdLine`, Python `getopt`
//! semantics: short options may be clustered, long options may be abbreviated to a
//! unique prefix, option parsing stops at the first non-option argument).

/// Parsed server options. `None` fields are filled from `fail2ban.conf` ("early"
/// options) or defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerOptions {
    /// `-c`: configuration directory.
    pub conf: String,
    /// `-s`: socket path.
    pub socket: Option<String>,
    /// `-p`: pid file.
    pub pidfile: Option<String>,
    /// `--loglevel`.
    pub loglevel: Option<String>,
    /// `--logtarget`.
    pub logtarget: Option<String>,
    /// `--syslogsocket`.
    pub syslogsocket: Option<String>,
    /// `--pname`: process name.
    pub pname: Option<String>,
    /// `-x`: remove a stale socket.
    pub force: bool,
    /// `-b` (default) / `-f`.
    pub background: bool,
    /// `--async`: do not read the configuration (the client configures the server).
    pub async_: bool,
    /// `-v`/`-q` count, starting at 1.
    pub verbose: i32,
    /// `--timeout` in seconds.
    pub timeout: f64,
    /// `-d` (1) / `--dp` (2).
    pub dump: u8,
    /// `-t`.
    pub test: bool,
    /// `-i`.
    pub interactive: bool,
    /// Remaining (non-option) arguments.
    pub args: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            conf: "/etc/fail2ban".into(),
            socket: None,
            pidfile: None,
            loglevel: None,
            logtarget: None,
            syslogsocket: None,
            pname: None,
            force: false,
            background: true,
            async_: false,
            verbose: 1,
            timeout: 30.0,
            dump: 0,
            test: false,
            interactive: false,
            args: Vec::new(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Run with these options.
    Run(ServerOptions),
    /// Print the usage text and exit 0 (`-h`).
    Help,
    /// Print the version (`-V`: short form).
    Version {
        /// `-V` rather than `--version`.
        short: bool,
    },
    /// `--str2sec STRING`: print the converted value and exit.
    Str2Sec(String),
    /// Unknown option or missing value: print the usage and exit 255.
    BadUsage,
}

const LONG: &[(&str, bool)] = &[
    ("loglevel", true),
    ("logtarget", true),
    ("syslogsocket", true),
    ("test", false),
    ("async", false),
    ("conf", true),
    ("pidfile", true),
    ("pname", true),
    ("socket", true),
    ("timeout", true),
    ("str2sec", true),
    ("help", false),
    ("version", false),
    ("dp", false),
    ("dump-pretty", false),
];

const SHORT_WITH_ARG: &str = "csp";
const SHORT_FLAGS: &str = "hxfbdtviqV";

/// Parses `argv` (without the program name). `str2sec` converts `--timeout` values
/// (upstream `MyTime.str2seconds`).
pub fn parse(argv: &[String], str2sec: &dyn Fn(&str) -> Option<f64>) -> Parsed {
    let mut opts: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let exact = LONG.iter().find(|(n, _)| *n == name);
            let cands: Vec<_> = LONG.iter().filter(|(n, _)| n.starts_with(name)).collect();
            let (full, has_arg) = match (exact, cands.as_slice()) {
                (Some(e), _) => *e,
                (None, [one]) => **one,
                _ => return Parsed::BadUsage,
            };
            let val = if has_arg {
                match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        match argv.get(i) {
                            Some(v) => v.clone(),
                            None => return Parsed::BadUsage,
                        }
                    }
                }
            } else if inline.is_some() {
                return Parsed::BadUsage;
            } else {
                String::new()
            };
            opts.push((format!("--{full}"), val));
            i += 1;
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                if SHORT_WITH_ARG.contains(c) {
                    let rest: String = chars[k + 1..].iter().collect();
                    let val = if !rest.is_empty() {
                        rest
                    } else {
                        i += 1;
                        match argv.get(i) {
                            Some(v) => v.clone(),
                            None => return Parsed::BadUsage,
                        }
                    };
                    opts.push((format!("-{c}"), val));
                    break;
                } else if SHORT_FLAGS.contains(c) {
                    opts.push((format!("-{c}"), String::new()));
                } else {
                    return Parsed::BadUsage;
                }
                k += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    let mut o = ServerOptions {
        args: argv[i..].to_vec(),
        ..ServerOptions::default()
    };
    for (k, v) in opts {
        match k.as_str() {
            "-c" | "--conf" => o.conf = v,
            "-s" | "--socket" => o.socket = Some(v),
            "-p" | "--pidfile" => o.pidfile = Some(v),
            "-d" => o.dump = 1,
            "--dp" | "--dump-pretty" => o.dump = 2,
            "-t" | "--test" => o.test = true,
            "-v" => o.verbose += 1,
            "-q" => o.verbose -= 1,
            "-x" => o.force = true,
            "-i" => o.interactive = true,
            "-b" => o.background = true,
            "-f" => o.background = false,
            "--async" => o.async_ = true,
            "--timeout" => match str2sec(&v) {
                Some(t) => o.timeout = t,
                None => return Parsed::BadUsage,
            },
            "--str2sec" => return Parsed::Str2Sec(v),
            "-h" | "--help" => return Parsed::Help,
            "-V" => return Parsed::Version { short: true },
            "--version" => return Parsed::Version { short: false },
            "--loglevel" => o.loglevel = Some(v),
            "--logtarget" => o.logtarget = Some(v),
            "--syslogsocket" => o.syslogsocket = Some(v),
            "--pname" => o.pname = Some(v),
            _ => {}
        }
    }
    Parsed::Run(o)
}

/// The usage text printed by `-h` (and on bad usage), as upstream prints it for
/// `fail2ban-server`.
pub fn usage(version: &str) -> String {
    format!(
        "Usage: fail2ban-server [OPTIONS]

Fail2Ban v{version} reads log file that contains password failure report
and bans the corresponding IP addresses using firewall rules.

{}
Report bugs to https://github.com/fail2ban/fail2ban/issues
",
        f2b_config::cmdline::OPTIONS_HELP
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&v, &|s| s.parse().ok())
    }

    #[test]
    fn client_start_invocation() {
        let Parsed::Run(o) = p(&[
            "--async",
            "-b",
            "-s",
            "/r/s.sock",
            "-p",
            "/r/p.pid",
            "-x",
            "-vv",
            "--loglevel",
            "INFO",
            "--logtarget",
            "/var/log/f.log",
            "--syslogsocket",
            "auto",
        ]) else {
            panic!("not run")
        };
        assert!(o.async_ && o.background && o.force);
        assert_eq!(o.socket.as_deref(), Some("/r/s.sock"));
        assert_eq!(o.pidfile.as_deref(), Some("/r/p.pid"));
        assert_eq!(o.verbose, 3);
        assert_eq!(o.loglevel.as_deref(), Some("INFO"));
        assert_eq!(o.logtarget.as_deref(), Some("/var/log/f.log"));
        assert_eq!(o.syslogsocket.as_deref(), Some("auto"));
        assert!(o.args.is_empty());
    }

    #[test]
    fn getopt_details() {
        // abbreviation, clustering, attached values, stop at first argument
        let Parsed::Run(o) = p(&["--logt=STDOUT", "-fxc/etc/x", "start", "-v"]) else {
            panic!()
        };
        assert_eq!(o.logtarget.as_deref(), Some("STDOUT"));
        assert!(!o.background && o.force);
        assert_eq!(o.conf, "/etc/x");
        assert_eq!(o.args, vec!["start", "-v"]);
        assert_eq!(p(&["--log", "x"]), Parsed::BadUsage, "ambiguous prefix");
        assert_eq!(p(&["-z"]), Parsed::BadUsage);
        assert_eq!(p(&["-s"]), Parsed::BadUsage);
        assert_eq!(p(&["-V"]), Parsed::Version { short: true });
        assert_eq!(p(&["--vers"]), Parsed::Version { short: false });
        assert_eq!(p(&["--dump-p"]), p(&["--dp"]));
    }
}

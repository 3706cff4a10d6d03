//! Command-line parsing exactly like upstream's `Fail2banCmdLine.initCmdLine`:
//! Python `getopt` (short clusters, `-cDIR`, unique-prefix long options, stop at the
//! first non-option), options applied in order, `-h`/`-V`/`--str2sec` ending
//! option processing.

/// Short options taking an argument (`hc:s:p:xfbdtviqV`).
const SHORT: &str = "hc:s:p:xfbdtviqV";
/// Long options (`=` = takes an argument).
const LONG: &[&str] = &[
    "loglevel=",
    "logtarget=",
    "syslogsocket=",
    "test",
    "async",
    "conf=",
    "pidfile=",
    "pname=",
    "socket=",
    "timeout=",
    "str2sec=",
    "help",
    "version",
    "dp",
    "dump-pretty",
];

/// A getopt failure (upstream prints the usage and exits 255).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetoptError(pub String);

/// Parsed options in order (name, value) and the remaining arguments.
pub type Getopt = (Vec<(String, String)>, Vec<String>);

/// Python's `getopt.getopt(args, SHORT, LONG)`: (options in order, rest).
pub fn getopt(args: &[String]) -> Result<Getopt, GetoptError> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, val) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let cands: Vec<&str> = LONG
                .iter()
                .copied()
                .filter(|o| o.starts_with(name))
                .collect();
            let exact = cands.iter().find(|o| o.trim_end_matches('=') == name);
            let opt = match (exact, cands.len()) {
                (Some(o), _) => *o,
                (None, 1) => cands[0],
                (None, 0) => return Err(GetoptError(format!("option --{name} not recognized"))),
                _ => return Err(GetoptError(format!("option --{name} not a unique prefix"))),
            };
            let full = opt.trim_end_matches('=');
            if opt.ends_with('=') {
                let v = match val {
                    Some(v) => v,
                    None => {
                        i += 1;
                        match args.get(i) {
                            Some(v) => v.clone(),
                            None => {
                                return Err(GetoptError(format!(
                                    "option --{full} requires argument"
                                )))
                            }
                        }
                    }
                };
                opts.push((format!("--{full}"), v));
            } else {
                if val.is_some() {
                    return Err(GetoptError(format!(
                        "option --{full} must not have an argument"
                    )));
                }
                opts.push((format!("--{full}"), String::new()));
            }
            i += 1;
            continue;
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            let pos = SHORT.find(c).filter(|_| c != ':');
            let Some(pos) = pos else {
                return Err(GetoptError(format!("option -{c} not recognized")));
            };
            if SHORT[pos + 1..].starts_with(':') {
                let rest: String = chars[k + 1..].iter().collect();
                let v = if !rest.is_empty() {
                    rest
                } else {
                    i += 1;
                    match args.get(i) {
                        Some(v) => v.clone(),
                        None => return Err(GetoptError(format!("option -{c} requires argument"))),
                    }
                };
                opts.push((format!("-{c}"), v));
                break;
            }
            opts.push((format!("-{c}"), String::new()));
            k += 1;
        }
        i += 1;
    }
    Ok((opts, args[i.min(args.len())..].to_vec()))
}

/// Dump mode of `-d` / `--dp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    /// `-d`: one Python `repr` per line.
    Repr,
    /// `--dp`: `pprint.pformat(width=1000, indent=2)`.
    Pretty,
}

/// Client settings from the command line (`self._conf`).
#[derive(Debug, Clone, PartialEq)]
pub struct Conf {
    /// `-c`: configuration directory.
    pub conf: String,
    /// `-s`: socket path.
    pub socket: Option<String>,
    /// `-p`: pid file.
    pub pidfile: Option<String>,
    /// `--pname`.
    pub pname: Option<String>,
    /// `--loglevel`.
    pub loglevel: Option<String>,
    /// `--logtarget`.
    pub logtarget: Option<String>,
    /// `--syslogsocket`.
    pub syslogsocket: Option<String>,
    /// `-d` / `--dp`.
    pub dump: Option<Dump>,
    /// `-t`.
    pub test: bool,
    /// `-i`.
    pub interactive: bool,
    /// verbosity (1 + `-v` count − `-q` count).
    pub verbose: i32,
    /// `-x`.
    pub force: bool,
    /// `-b` (true, default) / `-f` (false).
    pub background: bool,
    /// `--async`.
    pub async_: bool,
    /// `--timeout` in seconds.
    pub timeout: f64,
}

impl Default for Conf {
    fn default() -> Self {
        Conf {
            conf: "/etc/fail2ban".into(),
            socket: None,
            pidfile: None,
            pname: None,
            loglevel: None,
            logtarget: None,
            syslogsocket: None,
            dump: None,
            test: false,
            interactive: false,
            verbose: 1,
            force: false,
            background: true,
            async_: false,
            timeout: 30.0,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Print the usage (`-h`, exit 0).
    Help,
    /// Print the usage after a getopt error (exit 255).
    BadUsage(String),
    /// `-V` (short) or `--version`.
    Version {
        /// `-V`: machine-readable form.
        short: bool,
    },
    /// `--str2sec STR`.
    Str2Sec(String),
    /// `--timeout` value that failed to evaluate.
    BadTimeout(String),
    /// Go on with the settings and the remaining arguments (the command).
    Run(Conf, Vec<String>),
}

/// Parses `argv[1..]` like `initCmdLine` + `__getCmdLineOptions`.
pub fn parse(args: &[String]) -> Action {
    let (opts, rest) = match getopt(args) {
        Ok(r) => r,
        Err(e) => return Action::BadUsage(e.0),
    };
    let mut c = Conf::default();
    for (o, v) in opts {
        match o.as_str() {
            "-c" | "--conf" => c.conf = v,
            "-s" | "--socket" => c.socket = Some(v),
            "-p" | "--pidfile" => c.pidfile = Some(v),
            "-d" => c.dump = Some(Dump::Repr),
            "--dp" | "--dump-pretty" => c.dump = Some(Dump::Pretty),
            "-t" | "--test" => c.test = true,
            "-v" => c.verbose += 1,
            "-q" => c.verbose -= 1,
            "-x" => c.force = true,
            "-i" => c.interactive = true,
            "-b" => c.background = true,
            "-f" => c.background = false,
            "--async" => c.async_ = true,
            "--timeout" => match f2b_config::time::str2seconds(&v) {
                Ok(t) => c.timeout = t,
                Err(e) => return Action::BadTimeout(e.to_string()),
            },
            "--str2sec" => return Action::Str2Sec(v),
            "-h" | "--help" => return Action::Help,
            "-V" | "--version" => return Action::Version { short: o == "-V" },
            "--pname" => c.pname = Some(v),
            "--loglevel" => c.loglevel = Some(v),
            "--logtarget" => c.logtarget = Some(v),
            "--syslogsocket" => c.syslogsocket = Some(v),
            _ => {}
        }
    }
    Action::Run(c, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn getopt_like_python() {
        let (o, r) = getopt(&v(&["-dc/tmp/x", "--dump", "-s", "S", "status", "-d"])).unwrap();
        assert_eq!(
            o,
            [
                ("-d".to_string(), String::new()),
                ("-c".into(), "/tmp/x".into()),
                ("--dump-pretty".into(), String::new()),
                ("-s".into(), "S".into())
            ]
        );
        assert_eq!(r, ["status", "-d"]);
        assert!(getopt(&v(&["--bogus"])).is_err());
        assert!(getopt(&v(&["-c"])).is_err());
        assert!(getopt(&v(&["--help=1"])).is_err());
        assert_eq!(getopt(&v(&["--conf=/a"])).unwrap().0[0].1, "/a");
    }

    #[test]
    fn parse_actions() {
        assert_eq!(parse(&v(&["-V", "-h"])), Action::Version { short: true });
        assert_eq!(
            parse(&v(&["--str2sec", "1d"])),
            Action::Str2Sec("1d".into())
        );
        match parse(&v(&["--dp", "-t", "-vv", "-q", "start"])) {
            Action::Run(c, rest) => {
                assert_eq!((c.dump, c.test, c.verbose), (Some(Dump::Pretty), true, 2));
                assert_eq!(rest, ["start"]);
            }
            other => panic!("{other:?}"),
        }
    }
}

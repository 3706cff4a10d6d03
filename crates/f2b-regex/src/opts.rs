//! Command line of fail2ban-regex (Python `optparse` semantics: options anywhere,
//! `--opt=value`, `--opt value`, `-dVALUE`, `-d VALUE`, bundled `-vr`, `--`).

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Opts {
    /// `-c/--config`.
    pub config: String,
    /// `-d/--datepattern`.
    pub datepattern: Option<String>,
    /// `--timezone/--TZ`.
    pub timezone: Option<String>,
    /// `-e/--encoding`.
    pub encoding: String,
    /// `-r/--raw`.
    pub raw: bool,
    /// `--usedns`.
    pub usedns: Option<String>,
    /// `-L/--maxlines` (0 = not given).
    pub maxlines: usize,
    /// `-m/--journalmatch`.
    pub journalmatch: Option<String>,
    /// `-l/--log-level`.
    pub log_level: String,
    /// `-v` count or `--verbosity`.
    pub verbose: u32,
    /// `--verbose-date/--VD`.
    pub verbose_date: bool,
    /// `-D/--debuggex`.
    pub debuggex: bool,
    /// Not `--no-check-all`.
    pub check_all: bool,
    /// `-o/--out`.
    pub out: Option<String>,
    /// `--print-no-missed`.
    pub print_no_missed: bool,
    /// `--print-no-ignored`.
    pub print_no_ignored: bool,
    /// `--print-all-matched`.
    pub print_all_matched: bool,
    /// `--print-all-missed`.
    pub print_all_missed: bool,
    /// `--print-all-ignored`.
    pub print_all_ignored: bool,
    /// Positional arguments (LOG REGEX [IGNOREREGEX]).
    pub args: Vec<String>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            config: "/etc/fail2ban".into(),
            datepattern: None,
            timezone: None,
            encoding: "UTF-8".into(),
            raw: false,
            usedns: None,
            maxlines: 0,
            journalmatch: None,
            log_level: "critical".into(),
            verbose: 0,
            verbose_date: false,
            debuggex: false,
            check_all: true,
            out: None,
            print_no_missed: false,
            print_no_ignored: false,
            print_all_matched: false,
            print_all_missed: false,
            print_all_ignored: false,
            args: Vec::new(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run with these options.
    Run(Box<Opts>),
    /// `-h/--help`.
    Help,
    /// `--version`.
    Version,
    /// `-V`.
    ShortVersion,
    /// An optparse error (message without the "prog: error: " prefix).
    Error(String),
}

const WITH_ARG: &[(&str, &str)] = &[
    ("-c", "--config"),
    ("-d", "--datepattern"),
    ("", "--timezone"),
    ("", "--TZ"),
    ("-e", "--encoding"),
    ("", "--usedns"),
    ("-L", "--maxlines"),
    ("-m", "--journalmatch"),
    ("-l", "--log-level"),
    ("", "--verbosity"),
    ("-o", "--out"),
];

const FLAGS: &[(&str, &str)] = &[
    ("-h", "--help"),
    ("", "--version"),
    ("-V", ""),
    ("-r", "--raw"),
    ("-v", "--verbose"),
    ("", "--verbose-date"),
    ("", "--VD"),
    ("-D", "--debuggex"),
    ("", "--no-check-all"),
    ("", "--print-no-missed"),
    ("", "--print-no-ignored"),
    ("", "--print-all-matched"),
    ("", "--print-all-missed"),
    ("", "--print-all-ignored"),
    ("-t", "--log-traceback"),
    ("", "--full-traceback"),
];

fn long_names() -> Vec<&'static str> {
    WITH_ARG
        .iter()
        .chain(FLAGS)
        .map(|(_, l)| *l)
        .filter(|l| !l.is_empty())
        .collect()
}

/// optparse's unambiguous long-option prefix matching.
fn match_long(opt: &str) -> Result<&'static str, String> {
    let names = long_names();
    if let Some(n) = names.iter().find(|n| **n == opt) {
        return Ok(n);
    }
    let cands: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with(opt))
        .collect();
    match cands.len() {
        0 => Err(format!("no such option: {opt}")),
        1 => Ok(cands[0]),
        _ => Err(format!("ambiguous option: {opt} ({}?)", cands.join(", "))),
    }
}

fn canonical(short: &str) -> Option<&'static str> {
    WITH_ARG
        .iter()
        .chain(FLAGS)
        .find(|(s, _)| *s == short)
        .map(|(s, l)| if l.is_empty() { *s } else { *l })
}

fn takes_arg(name: &str) -> bool {
    WITH_ARG.iter().any(|(s, l)| *s == name || *l == name)
}

fn apply(o: &mut Opts, name: &str, val: Option<String>) -> Result<Option<Parsed>, String> {
    let v = || val.clone().unwrap_or_default();
    match name {
        "--help" => return Ok(Some(Parsed::Help)),
        "--version" => return Ok(Some(Parsed::Version)),
        "-V" => return Ok(Some(Parsed::ShortVersion)),
        "--config" => o.config = v(),
        "--datepattern" => o.datepattern = Some(v()),
        "--timezone" | "--TZ" => o.timezone = Some(v()),
        "--encoding" => o.encoding = v(),
        "--usedns" => o.usedns = Some(v()),
        "--maxlines" => {
            o.maxlines = v()
                .trim()
                .parse()
                .map_err(|_| format!("option -L: invalid integer value: '{}'", v()))?
        }
        "--journalmatch" => o.journalmatch = Some(v()),
        "--log-level" => o.log_level = v(),
        "--verbosity" => {
            o.verbose = v()
                .trim()
                .parse()
                .map_err(|_| format!("option --verbosity: invalid integer value: '{}'", v()))?
        }
        "--out" => o.out = Some(v()),
        "--raw" => o.raw = true,
        "--verbose" => o.verbose += 1,
        "--verbose-date" | "--VD" => o.verbose_date = true,
        "--debuggex" => o.debuggex = true,
        "--no-check-all" => o.check_all = false,
        "--print-no-missed" => o.print_no_missed = true,
        "--print-no-ignored" => o.print_no_ignored = true,
        "--print-all-matched" => o.print_all_matched = true,
        "--print-all-missed" => o.print_all_missed = true,
        "--print-all-ignored" => o.print_all_ignored = true,
        _ => {}
    }
    Ok(None)
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Parsed {
    match parse_inner(args) {
        Ok(p) => p,
        Err(e) => Parsed::Error(e),
    }
}

fn parse_inner(args: &[String]) -> Result<Parsed, String> {
    let mut o = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            o.args.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (n, inline) = match body.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (a.clone(), None),
            };
            let name = match_long(&n)?;
            let val = if takes_arg(name) {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or(format!("{name} option requires 1 argument"))?;
                        i += 1;
                        Some(v)
                    }
                }
            } else {
                if inline.is_some() {
                    return Err(format!("{name} option does not take a value"));
                }
                None
            };
            if let Some(p) = apply(&mut o, name, val)? {
                return Ok(p);
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let s = format!("-{}", chars[k]);
                k += 1;
                let name = canonical(&s).ok_or(format!("no such option: {s}"))?;
                let val = if takes_arg(name) {
                    let rest: String = chars[k..].iter().collect();
                    k = chars.len();
                    if !rest.is_empty() {
                        Some(rest)
                    } else {
                        let v = args
                            .get(i)
                            .cloned()
                            .ok_or(format!("{s} option requires 1 argument"))?;
                        i += 1;
                        Some(v)
                    }
                } else {
                    None
                };
                if let Some(p) = apply(&mut o, name, val)? {
                    return Ok(p);
                }
            }
        } else {
            o.args.push(a.clone());
        }
    }
    Ok(Parsed::Run(Box::new(o)))
}

/// The help text (`-h`), with the program path as given in argv\[0\].
pub fn help(prog: &str) -> String {
    HELP.replace("{prog}", prog)
}

const HELP: &str = "Usage: {prog} [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]

Fail2Ban  reads log file that contains password failure report
and bans the corresponding IP addresses using firewall rules.

This tools can test regular expressions for \"fail2ban\".

LOG:
  string                a string representing a log line
  filename              path to a log file (/var/log/auth.log)
  systemd-journal       search systemd journal (systemd-python required),
                        optionally with backend parameters, see `man jail.conf`
                        for usage and examples (systemd-journal[journalflags=1]).

REGEX:
  string                a string representing a 'failregex'
  filter                name of filter, optionally with options (sshd[mode=aggressive])
  filename              path to a filter file (filter.d/sshd.conf)

IGNOREREGEX:
  string                a string representing an 'ignoreregex'
  filename              path to a filter file (filter.d/sshd.conf)

Options:
  --version             show program's version number and exit
  -h, --help            show this help message and exit
  -c CONFIG, --config=CONFIG
                        set alternate config directory
  -d DATEPATTERN, --datepattern=DATEPATTERN
                        set custom pattern used to match date/times
  --timezone=TIMEZONE, --TZ=TIMEZONE
                        set time-zone used by convert time format
  -e ENCODING, --encoding=ENCODING
                        File encoding. Default: system locale
  -r, --raw             Raw hosts, don't resolve dns
  --usedns=USEDNS       DNS specified replacement of tags <HOST> in regexp
                        ('yes' - matches all form of hosts, 'no' - IP
                        addresses only)
  -L MAXLINES, --maxlines=MAXLINES
                        maxlines for multi-line regex.
  -m JOURNALMATCH, --journalmatch=JOURNALMATCH
                        journalctl style matches overriding filter file.
                        \"systemd-journal\" only
  -l LOG_LEVEL, --log-level=LOG_LEVEL
                        Log level for the Fail2Ban logger to use
  -V                    get version in machine-readable short format
  -v, --verbose         Increase verbosity
  --verbosity=VERBOSE   Set numerical level of verbosity (0..4)
  --verbose-date, --VD  Verbose date patterns/regex in output
  -D, --debuggex        Produce debuggex.com urls for debugging there
  --no-check-all        Disable check for all regex's
  -o OUT, --out=OUT     Set token to print failure information only (row, id,
                        ip, msg, host, ip4, ip6, dns, matches, ...)
  --print-no-missed     Do not print any missed lines
  --print-no-ignored    Do not print any ignored lines
  --print-all-matched   Print all matched lines
  --print-all-missed    Print all missed lines, no matter how many
  --print-all-ignored   Print all ignored lines, no matter how many
  -t, --log-traceback   Enrich log-messages with compressed tracebacks
  --full-traceback      Either to make the tracebacks full, not compressed (as
                        by default)


Report bugs to https://github.com/fail2ban/fail2ban/issues

Copyright (c) 2004-2008 Cyril Jaquier, 2008- Fail2Ban Contributors
Copyright of modifications held by their respective authors.
Licensed under the GNU General Public License v2 (GPL).

Written by Cyril Jaquier <cyril.jaquier@fail2ban.org>.
Many contributions by Yaroslav O. Halchenko, Steven Hiscocks, Sergey G. Brester (sebres).
";

#[cfg(test)]
mod tests {
    use super::*;

    fn run(a: &[&str]) -> Opts {
        match parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()) {
            Parsed::Run(o) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn optparse_forms() {
        let o = run(&[
            "-vv",
            "log",
            "-dEPOCH",
            "--out=id",
            "--print-all-ma",
            "re",
            "-L",
            "3",
        ]);
        assert_eq!(o.verbose, 2);
        assert_eq!(o.datepattern.as_deref(), Some("EPOCH"));
        assert_eq!(o.out.as_deref(), Some("id"));
        assert!(o.print_all_matched);
        assert_eq!(o.maxlines, 3);
        assert_eq!(o.args, ["log", "re"]);
        assert!(matches!(parse(&["--print-all".into()]), Parsed::Error(_)));
        assert!(matches!(parse(&["-x".into()]), Parsed::Error(_)));
    }
}

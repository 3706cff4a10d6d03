//! What `fail2ban-client` prints for a reply (upstream's `client/beautifier.py`).
//!
//! [`beautify`] mirrors `Beautifier.beautify` of fail2ban 1.0.2 statement by
//! statement, including its failure mode: when the reply does not have the shape a
//! branch expects, upstream catches the exception and prints `repr(msg) +
//! repr(response)` (with `msg` as far as it got). `status --all` and `stats` replies
//! (fail2ban 1.1 commands, unknown to 1.0.2 servers) are printed as 1.1 does.
//! [`beautify_error`] mirrors `Beautifier.beautifyError`.

use crate::value::Value;

/// The text the client prints for a successful reply, plus whether upstream would
/// have logged "Beautifier error. Please report the error".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beautified {
    /// What `print()` writes (without the final newline).
    pub text: String,
    /// True when the reply had an unexpected shape (upstream logs a warning).
    pub failed: bool,
}

/// A Python operation failed (TypeError, IndexError, ...): the branch is abandoned.
struct PyErr;
type Py<T> = Result<T, PyErr>;

fn len(v: &Value) -> Py<usize> {
    match v {
        Value::Str(s) => Ok(s.chars().count()),
        Value::Bytes(b) | Value::ByteArray(b) => Ok(b.len()),
        Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => Ok(x.len()),
        Value::Dict(d) => Ok(d.len()),
        _ => Err(PyErr),
    }
}

/// `for x in v`.
fn iter(v: &Value) -> Py<Vec<Value>> {
    match v {
        Value::Str(s) => Ok(s.chars().map(|c| Value::Str(c.to_string())).collect()),
        Value::Bytes(b) | Value::ByteArray(b) => {
            Ok(b.iter().map(|&x| Value::Int(x.into())).collect())
        }
        Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => Ok(x.clone()),
        Value::Dict(d) => Ok(d.iter().map(|(k, _)| k.clone()).collect()),
        _ => Err(PyErr),
    }
}

/// `v[i]` with Python's negative indices (sequences only; dict lookups by int).
fn index(v: &Value, i: i64) -> Py<Value> {
    if let Value::Dict(d) = v {
        return d
            .iter()
            .find(|(k, _)| k.as_int() == Some(i) && !matches!(k, Value::Float(_)))
            .map(|(_, x)| x.clone())
            .ok_or(PyErr);
    }
    let items = match v {
        Value::Str(_)
        | Value::Bytes(_)
        | Value::ByteArray(_)
        | Value::List(_)
        | Value::Tuple(_) => iter(v)?,
        _ => return Err(PyErr),
    };
    let n = items.len() as i64;
    let j = if i < 0 { i + n } else { i };
    if (0..n).contains(&j) {
        Ok(items[j as usize].clone())
    } else {
        Err(PyErr)
    }
}

/// `v[:-1]` iterated.
fn all_but_last(v: &Value) -> Py<Vec<Value>> {
    match v {
        Value::Str(_)
        | Value::Bytes(_)
        | Value::ByteArray(_)
        | Value::List(_)
        | Value::Tuple(_) => {
            let mut items = iter(v)?;
            items.pop();
            Ok(items)
        }
        _ => Err(PyErr),
    }
}

/// A `str` operand of `+` or `join`.
fn s(v: &Value) -> Py<&str> {
    v.as_str().ok_or(PyErr)
}

fn join(sep: &str, items: &Value) -> Py<String> {
    let parts = iter(items)?;
    let strs: Vec<&str> = parts.iter().map(s).collect::<Py<_>>()?;
    Ok(strs.join(sep))
}

/// `"%i" % v` (a 1-tuple is unpacked, as `%` does with tuples).
fn percent_i(v: &Value) -> Py<String> {
    match v {
        Value::Tuple(t) if t.len() == 1 => percent_i_one(&t[0]),
        Value::Tuple(_) => Err(PyErr),
        other => percent_i_one(other),
    }
}

/// `"%s" % v` (a 1-tuple is unpacked; other tuple lengths are a TypeError).
fn percent_s(v: &Value) -> Py<String> {
    match v {
        Value::Tuple(t) if t.len() == 1 => Ok(t[0].str_()),
        Value::Tuple(_) => Err(PyErr),
        other => Ok(other.str_()),
    }
}

fn percent_i_one(v: &Value) -> Py<String> {
    match v {
        Value::Int(i) => Ok(i.to_string()),
        Value::Bool(b) => Ok((*b as i64).to_string()),
        Value::BigInt(d) => Ok(d.clone()),
        // int() of the float: truncation, and never "-0".
        Value::Float(f) if f.is_finite() => Ok(format!("{:.0}", f.trunc() + 0.0)),
        _ => Err(PyErr),
    }
}

/// The item at `i` of the command (always strings when they come from argv).
fn arg(cmd: &[Value], i: usize) -> Py<&Value> {
    cmd.get(i).ok_or(PyErr)
}

fn is(cmd: &[Value], i: usize, word: &str) -> bool {
    cmd.get(i).and_then(Value::as_str) == Some(word)
}

/// `logging.getLevelName(level)` with fail2ban's extra level names.
pub fn level_name(level: i64) -> String {
    match level {
        0 => "NOTSET".into(),
        5 => "HEAVY".into(),
        7 => "TRACE".into(),
        10 => "DEBUG".into(),
        18 => "MSG".into(),
        20 => "INFO".into(),
        25 => "NOTICE".into(),
        30 => "WARNING".into(),
        40 => "ERROR".into(),
        50 => "CRITICAL".into(),
        1..=49 => format!("#{level:02}-Lev."),
        _ => format!("Level {level}"),
    }
}

/// Formats a successful `response` to `cmd` as fail2ban-client prints it.
/// `utf8` selects the box characters of the `stats` table (stdout encoding).
pub fn beautify(cmd: &[Value], response: &Value, utf8: bool) -> Beautified {
    // `msg` starts as the response and is replaced step by step, as upstream does.
    let mut msg = response.clone();
    match run(cmd, response, &mut msg, utf8) {
        Ok(()) => Beautified {
            text: msg.str_(),
            failed: false,
        },
        Err(PyErr) => Beautified {
            text: msg.repr() + &response.repr(),
            failed: true,
        },
    }
}

fn set_str(msg: &mut Value, text: impl Into<String>) {
    *msg = Value::Str(text.into());
}

fn push_str(msg: &mut Value, text: &str) -> Py<()> {
    match msg {
        Value::Str(m) => {
            m.push_str(text);
            Ok(())
        }
        _ => Err(PyErr),
    }
}

fn push_line(msg: &mut Value, line: String) {
    if let Value::List(v) = msg {
        v.push(Value::Str(line));
    }
}

/// A `[name, value]` status pair's value: lists are joined by spaces of `str()`.
fn status_val(v: &Value) -> Py<String> {
    match v {
        Value::List(items) => Ok(items.iter().map(Value::str_).collect::<Vec<_>>().join(" ")),
        other => Ok(other.str_()),
    }
}

/// `jail_stat(response, pref)`: the Filter/Actions tree of one jail.
fn jail_stat(msg: &mut Value, response: &Value, pref: &str) -> Py<()> {
    let items = iter(response)?;
    let n_items = len(response)?;
    for (n, res1) in items.iter().enumerate() {
        let last = n + 1 == n_items;
        let prefix1 = format!("{pref}{}", if last { "`-" } else { "|-" });
        push_line(msg, format!("{prefix1} {}", index(res1, 0)?.str_()));
        let prefix1 = format!("{pref}{}", if last { "   " } else { "|  " });
        let sub = index(res1, 1)?;
        let sub_items = iter(&sub)?;
        for (m, res2) in sub_items.iter().enumerate() {
            let last2 = m + 1 == len(&sub)?;
            let prefix2 = format!("{prefix1}{}", if last2 { "`-" } else { "|-" });
            let val = status_val(&index(res2, 1)?)?;
            push_line(msg, format!("{prefix2} {}:\t{val}", index(res2, 0)?.str_()));
        }
    }
    Ok(())
}

fn finish_lines(msg: &mut Value) -> Py<()> {
    let text = join("\n", msg)?;
    set_str(msg, text);
    Ok(())
}

fn run(cmd: &[Value], response: &Value, msg: &mut Value, utf8: bool) -> Py<()> {
    let c0 = arg(cmd, 0)?;
    let word = c0.as_str().unwrap_or("");
    match word {
        "ping" => set_str(msg, format!("Server replied: {}", s(response)?)),
        "version" => *msg = response.clone(),
        "start" => set_str(msg, "Jail started"),
        "stop" => {
            if response == &Value::None {
                set_str(
                    msg,
                    if cmd.len() == 1 {
                        "Shutdown successful"
                    } else {
                        "Jail stopped"
                    },
                );
            }
        }
        "add" => set_str(msg, format!("Added jail {}", s(response)?)),
        "flushlogs" => set_str(msg, format!("logs: {}", s(response)?)),
        "echo" => {
            let text = join(" ", msg)?;
            set_str(msg, text);
        }
        "status" if cmd.len() > 1 && is(cmd, 1, "--all") => status_all(cmd, response, msg)?,
        "status" if cmd.len() > 1 => {
            *msg = Value::List(vec![Value::Str(format!(
                "Status for the jail: {}",
                arg(cmd, 1)?.str_()
            ))]);
            jail_stat(msg, response, "")?;
            finish_lines(msg)?;
        }
        "status" => {
            *msg = Value::List(vec![Value::str("Status")]);
            let items = iter(response)?;
            let n_items = len(response)?;
            for (n, res1) in items.iter().enumerate() {
                let prefix1 = if n + 1 == n_items { "`-" } else { "|-" };
                let val = status_val(&index(res1, 1)?)?;
                push_line(msg, format!("{prefix1} {}:\t{val}", index(res1, 0)?.str_()));
            }
            finish_lines(msg)?;
        }
        "stats" | "statistics" => {
            if !response.truthy() {
                set_str(msg, "No jails found.");
            } else {
                let table = crate::beautify_stats::stats_table(response, utf8).ok_or(PyErr)?;
                set_str(msg, table);
            }
        }
        _ => by_argument(cmd, response, msg)?,
    }
    Ok(())
}

/// `status --all`: the server part, then each jail's tree (fail2ban 1.1 format).
fn status_all(cmd: &[Value], response: &Value, msg: &mut Value) -> Py<()> {
    let _ = cmd;
    let jstat = index(response, -1)?;
    let general = all_but_last(response)?;
    *msg = Value::List(vec![Value::str("Status")]);
    let has_jails = jstat.truthy();
    for (n, res1) in general.iter().enumerate() {
        let prefix1 = if !has_jails && n + 1 == general.len() {
            "`-"
        } else {
            "|-"
        };
        let val = status_val(&index(res1, 1)?)?;
        push_line(msg, format!("{prefix1} {}:\t{val}", index(res1, 0)?.str_()));
    }
    if has_jails {
        let Value::Dict(jails) = &jstat else {
            return Err(PyErr);
        };
        push_line(msg, "`- Status for the jails:".into());
        for (i, (name, j)) in jails.iter().enumerate() {
            let last = i + 1 == jails.len();
            push_line(
                msg,
                format!(
                    "   {} Jail: {}",
                    if last { "`-" } else { "|-" },
                    name.str_()
                ),
            );
            jail_stat(msg, j, if last { "      " } else { "   |  " })?;
        }
    }
    finish_lines(msg)
}

/// The branches keyed on the command's second and third words.
fn by_argument(cmd: &[Value], response: &Value, msg: &mut Value) -> Py<()> {
    if cmd.len() < 2 {
        return Ok(());
    }
    if is(cmd, 1, "syslogsocket") || is(cmd, 1, "logtarget") {
        let what = if is(cmd, 1, "syslogsocket") {
            "Current syslog socket is:\n"
        } else {
            "Current logging target is:\n"
        };
        set_str(msg, what);
        return push_str(msg, &format!("`- {}", s(response)?));
    }
    if is(cmd, 1, "loglevel") {
        set_str(msg, "Current logging level is ");
        let shown = match response {
            Value::Int(i) => Value::Str(level_name(*i)),
            Value::Bool(b) => Value::Str(level_name(*b as i64)),
            Value::BigInt(d) => Value::Str(format!("Level {d}")),
            other => other.clone(),
        };
        return push_str(msg, &shown.repr());
    }
    if is(cmd, 1, "dbfile") || is(cmd, 1, "dbpurgeage") {
        if response == &Value::None {
            set_str(msg, "Database currently disabled");
        } else if is(cmd, 1, "dbfile") {
            set_str(msg, "Current database file is:\n");
            push_str(msg, &format!("`- {}", s(response)?))?;
        } else {
            set_str(msg, "Current database purge age is:\n");
            push_str(msg, &format!("`- {}seconds", percent_i(response)?))?;
        }
        return Ok(());
    }
    if cmd.len() < 3 {
        return Ok(());
    }
    let w2 = cmd[2].as_str().unwrap_or("");
    match w2 {
        "logpath" | "addlogpath" | "dellogpath" => tree(
            msg,
            response,
            "No file is currently monitored",
            "Current monitored log file(s):\n",
            false,
        )?,
        "logencoding" => {
            set_str(msg, "Current log encoding is set to:\n");
            push_str(msg, s(response)?)?;
        }
        "journalmatch" | "addjournalmatch" | "deljournalmatch" => {
            if len(response)? == 0 {
                set_str(msg, "No journal match filter set");
            } else {
                set_str(msg, "Current match filter:\n");
                let parts: Vec<String> = iter(response)?
                    .iter()
                    .map(|res| join(" ", res))
                    .collect::<Py<_>>()?;
                push_str(msg, &parts.join(" + "))?;
            }
        }
        "datepattern" => {
            set_str(msg, "Current date pattern set to: ");
            if response == &Value::None {
                push_str(msg, "Not set/required")?;
            } else if index(response, 0)? == Value::None {
                push_str(msg, &percent_s(&index(response, 1)?)?)?;
            } else {
                match response {
                    Value::Tuple(t) if t.len() == 2 => {
                        push_str(msg, &format!("{} ({})", t[0].str_(), t[1].str_()))?
                    }
                    _ => return Err(PyErr),
                }
            }
        }
        "ignoreip" | "addignoreip" | "delignoreip" => tree(
            msg,
            response,
            "No IP address/network is ignored",
            "These IP addresses/networks are ignored:\n",
            false,
        )?,
        "failregex" | "addfailregex" | "delfailregex" | "ignoreregex" | "addignoreregex"
        | "delignoreregex" => tree(
            msg,
            response,
            "No regular expression is defined",
            "The following regular expression are defined:\n",
            true,
        )?,
        "actions" => {
            let jail = arg(cmd, 1)?.str_();
            if len(response)? == 0 {
                set_str(msg, format!("No actions for jail {jail}"));
            } else {
                set_str(msg, format!("The jail {jail} has the following actions:\n"));
                push_str(msg, &join(", ", response)?)?;
            }
        }
        "actionproperties" | "actionmethods" => {
            let what = if w2 == "actionproperties" {
                "properties"
            } else {
                "methods"
            };
            let empty = len(response)? == 0;
            let (jail, action) = (arg(cmd, 1)?.str_(), arg(cmd, 3)?.str_());
            if empty {
                set_str(msg, format!("No {what} for jail {jail} action {action}"));
            } else {
                set_str(
                    msg,
                    format!("The jail {jail} action {action} has the following {what}:\n"),
                );
                push_str(msg, &join(", ", response)?)?;
            }
        }
        "banip" if is(cmd, 0, "get") => {
            if let Value::List(_) = response {
                let sep = if cmd.len() <= 3 {
                    " ".to_string()
                } else {
                    s(&cmd[3])?.to_string()
                };
                let sep = if sep == "--with-time" {
                    "\n".to_string()
                } else {
                    sep
                };
                let text = join(&sep, response)?;
                set_str(msg, text);
            }
        }
        _ => {}
    }
    Ok(())
}

/// `|- a` / `` `- b `` lists (log files, ignored IPs, numbered regexes).
fn tree(msg: &mut Value, response: &Value, empty: &str, head: &str, numbered: bool) -> Py<()> {
    if len(response)? == 0 {
        set_str(msg, empty);
        return Ok(());
    }
    set_str(msg, head);
    let mut c = 0;
    for item in all_but_last(response)? {
        let line = if numbered {
            format!("|- [{c}]: {}\n", s(&item)?)
        } else {
            format!("|- {}\n", s(&item)?)
        };
        push_str(msg, &line)?;
        c += 1;
    }
    let last = index(response, -1)?;
    let line = if numbered {
        format!("`- [{c}]: {}", s(&last)?)
    } else {
        format!("`- {}", s(&last)?)
    };
    push_str(msg, &line)
}

/// What the client prints for an error reply (`Beautifier.beautifyError`).
pub fn beautify_error(exception: &Value) -> String {
    if let Value::Exception {
        module,
        class,
        args,
    } = exception
    {
        let first = args.first().and_then(Value::as_str);
        match (module.as_str(), class.as_str(), first) {
            ("fail2ban.exceptions", "UnknownJailException", Some(j)) => {
                return format!("Sorry but the jail '{j}' does not exist")
            }
            ("builtins", "IndexError", _) => return "Sorry but the command is invalid".into(),
            ("fail2ban.exceptions", "DuplicateJailException", Some(j)) => {
                return format!("The jail '{j}' already exists")
            }
            _ => {}
        }
    }
    exception.str_()
}

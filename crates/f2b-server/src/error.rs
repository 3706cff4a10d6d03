//! Command errors as the Python exceptions upstream's server pickles back
//! (`(1, UnknownJailException('x'))`), plus helpers that reproduce Python's
//! conversion errors (`int('x')`, `list[i]`).

use f2b_protocol::Value;

/// An exception instance to send back as `(1, exc)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CmdError {
    /// Python module of the class.
    pub module: String,
    /// Class name.
    pub class: String,
    /// `args`.
    pub args: Vec<Value>,
}

/// Result of a command.
pub type CmdResult = Result<Value, CmdError>;

impl CmdError {
    fn builtin(class: &str, msg: impl Into<String>) -> CmdError {
        CmdError {
            module: "builtins".into(),
            class: class.into(),
            args: vec![Value::Str(msg.into())],
        }
    }

    /// `Exception(msg)`.
    pub fn exception(msg: impl Into<String>) -> CmdError {
        CmdError::builtin("Exception", msg)
    }

    /// `ValueError(msg)`.
    pub fn value(msg: impl Into<String>) -> CmdError {
        CmdError::builtin("ValueError", msg)
    }

    /// `RuntimeError(msg)`.
    pub fn runtime(msg: impl Into<String>) -> CmdError {
        CmdError::builtin("RuntimeError", msg)
    }

    /// `TypeError(msg)`.
    pub fn type_error(msg: impl Into<String>) -> CmdError {
        CmdError::builtin("TypeError", msg)
    }

    /// `IndexError('list index out of range')` (a missing command argument).
    pub fn index() -> CmdError {
        CmdError::builtin("IndexError", "list index out of range")
    }

    /// `KeyError(key)`.
    pub fn key(key: Value) -> CmdError {
        CmdError {
            module: "builtins".into(),
            class: "KeyError".into(),
            args: vec![key],
        }
    }

    /// `fail2ban.exceptions.UnknownJailException(name)`.
    pub fn unknown_jail(name: &str) -> CmdError {
        CmdError {
            module: "fail2ban.exceptions".into(),
            class: "UnknownJailException".into(),
            args: vec![Value::str(name)],
        }
    }

    /// `fail2ban.exceptions.DuplicateJailException(name)`.
    pub fn duplicate_jail(name: &str) -> CmdError {
        CmdError {
            module: "fail2ban.exceptions".into(),
            class: "DuplicateJailException".into(),
            args: vec![Value::str(name)],
        }
    }

    /// `fail2ban.server.failregex.RegexException(msg)`.
    pub fn regex(msg: impl Into<String>) -> CmdError {
        CmdError {
            module: "fail2ban.server.failregex".into(),
            class: "RegexException".into(),
            args: vec![Value::Str(msg.into())],
        }
    }

    /// `OSError(errno, strerror, filename)` (its subclass by errno) for a failed file
    /// operation, as Python's `open()` raises it.
    pub fn os(e: &std::io::Error, filename: &str) -> CmdError {
        let errno = e.raw_os_error().unwrap_or(0);
        let class = match errno {
            libc::ENOENT => "FileNotFoundError",
            libc::EACCES | libc::EPERM => "PermissionError",
            libc::EISDIR => "IsADirectoryError",
            libc::ENOTDIR => "NotADirectoryError",
            libc::EEXIST => "FileExistsError",
            _ => "OSError",
        };
        // SAFETY: strerror returns a valid NUL-terminated static string for any errno.
        let strerror = unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }
            .to_string_lossy()
            .into_owned();
        CmdError {
            module: "builtins".into(),
            class: class.into(),
            args: vec![
                Value::Int(errno as i64),
                Value::Str(strerror),
                Value::str(filename),
            ],
        }
    }

    /// The exception as a protocol value.
    pub fn to_value(&self) -> Value {
        Value::Exception {
            module: self.module.clone(),
            class: self.class.clone(),
            args: self.args.clone(),
        }
    }
}

/// Argument `i` of a command (Python `command[i]`).
pub fn arg(cmd: &[Value], i: usize) -> Result<&Value, CmdError> {
    cmd.get(i).ok_or_else(CmdError::index)
}

/// Argument `i` as text (non-strings are rendered with Python `str()`).
pub fn sarg(cmd: &[Value], i: usize) -> Result<String, CmdError> {
    Ok(text(arg(cmd, i)?))
}

/// Python `str(v)` (strings unchanged).
pub fn text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => other.str_(),
    }
}

/// Python `int(v)` with its error text.
pub fn py_int(v: &Value) -> Result<i64, CmdError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Float(f) if f.is_finite() => Ok(f.trunc() as i64),
        Value::Str(s) => {
            let t = s.trim().replace('_', "");
            t.parse::<i64>().map_err(|_| {
                CmdError::value(format!(
                    "invalid literal for int() with base 10: {}",
                    Value::str(s.clone()).repr()
                ))
            })
        }
        other => Err(CmdError::type_error(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            other.type_name()
        ))),
    }
}

/// Python `float(v)` with its error text.
pub fn py_float(v: &Value) -> Result<f64, CmdError> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Str(s) => s.trim().parse::<f64>().map_err(|_| {
            CmdError::value(format!(
                "could not convert string to float: {}",
                Value::str(s.clone()).repr()
            ))
        }),
        other => Err(CmdError::type_error(format!(
            "float() argument must be a string or a real number, not '{}'",
            other.type_name()
        ))),
    }
}

/// fail2ban's `_as_bool`.
pub fn as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        other => matches!(
            text(other).to_lowercase().as_str(),
            "1" | "on" | "true" | "yes"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_conversions() {
        assert_eq!(py_int(&Value::str(" 12 ")).unwrap(), 12);
        assert_eq!(
            py_int(&Value::str("notanumber")).unwrap_err().args,
            vec![Value::str(
                "invalid literal for int() with base 10: 'notanumber'"
            )]
        );
        assert!(py_int(&Value::str("1.5")).is_err());
        assert_eq!(py_float(&Value::str("0.5")).unwrap(), 0.5);
        assert!(as_bool(&Value::str("Yes")) && !as_bool(&Value::str("y")));
        assert_eq!(arg(&[], 0).unwrap_err().class, "IndexError");
    }
}

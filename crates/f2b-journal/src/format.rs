//! Upstream's `FilterSystemd.formatJournalEntry`: one journal entry to the syslog-style
//! line fail2ban matches, `"<_HOSTNAME> <SYSLOG_IDENTIFIER|_COMM>[<SYSLOG_PID|_PID>]:
//! <MESSAGE>"`, with its time. Pure: no journal access, only the conversions python-systemd
//! and Python apply to the raw field bytes.

use f2b_tail::Encoding;

use crate::pyconv::{bytes_repr, entry_time_at, py_int, to_int, to_str, value_repr, Value};
use crate::reader::RawEntry;

/// One formatted entry.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalLine {
    /// The line (newlines of the message written as the two characters `\n`).
    pub text: String,
    /// The entry's local time as ISO text (`datetime.isoformat()`); upstream's date part
    /// of the line tuple is this plus one space, and it stores it in the database.
    pub iso: String,
    /// The entry's time (seconds since the epoch).
    pub time: f64,
    /// The µs timestamp the time comes from (`_SOURCE_REALTIME_TIMESTAMP`, else
    /// `__REALTIME_TIMESTAMP`).
    pub usec: i64,
    /// The entry's cursor.
    pub cursor: String,
}

impl JournalLine {
    /// The line as upstream's filter tuple `("", iso + " ", text)` (what
    /// `f2b_filter::Filter::process_line_with_date` takes).
    pub fn tuple(&self) -> (String, String, String) {
        (String::new(), format!("{} ", self.iso), self.text.clone())
    }

    /// The line as fail2ban-regex prints it (`"".join(tuple)`).
    pub fn joined(&self) -> String {
        format!("{} {}", self.iso, self.text)
    }
}

/// Formats entries in one encoding and UTC offset.
#[derive(Debug, Clone, Copy)]
pub struct EntryFormatter {
    /// The jail's log encoding (used only for fields that are not valid UTF-8).
    pub encoding: Encoding,
    /// The fixed UTC offset of the ISO times (seconds east of UTC).
    pub utc_offset: i32,
}

/// Fields python-systemd converts with `int`.
fn is_int_field(name: &str) -> bool {
    matches!(name, "SYSLOG_PID" | "_PID")
}

fn convert(entry: &RawEntry, name: &str) -> Option<Value> {
    let vals = entry.get(name)?;
    let conv = |raw: &Vec<u8>| {
        if is_int_field(name) {
            to_int(raw)
        } else {
            to_str(raw)
        }
    };
    Some(if vals.len() == 1 {
        conv(&vals[0])
    } else {
        Value::List(vals.iter().map(conv).collect())
    })
}

impl EntryFormatter {
    /// A formatter in the process's local UTC offset (fixed at first use, like Python).
    pub fn local(encoding: Encoding) -> EntryFormatter {
        EntryFormatter {
            encoding,
            utc_offset: crate::pyconv::local_utc_offset(),
        }
    }

    /// `uni_decode(v, enc)`: text stays, bytes decode in the jail encoding with
    /// replacement. A multi-valued field (upstream fails on the entry) gives its first value.
    fn decode(&self, v: &Value) -> String {
        match v {
            Value::Str(s) => s.clone(),
            Value::Bytes(b) => self.encoding.decode(b).0,
            Value::Int(n) => n.clone(),
            Value::List(l) => l.first().map(|x| self.decode(x)).unwrap_or_default(),
        }
    }

    /// `"[%i]" % v`, else `"[%i]" % int(v, 0)`, else `"[%s]" % v`.
    fn pid(v: &Value) -> String {
        match v {
            Value::Int(n) => format!("[{n}]"),
            Value::Bytes(b) => match py_int(b, 0) {
                Some(n) => format!("[{n}]"),
                None => format!("[{}]", bytes_repr(b)),
            },
            Value::Str(s) => match py_int(s.as_bytes(), 0) {
                Some(n) => format!("[{n}]"),
                None => format!("[{s}]"),
            },
            Value::List(_) => format!("[{}]", value_repr(v)),
        }
    }

    /// The µs timestamp of an entry: `_SOURCE_REALTIME_TIMESTAMP` when it is an
    /// integer, else the journal's receive time.
    pub fn entry_usec(entry: &RawEntry) -> i64 {
        entry
            .get("_SOURCE_REALTIME_TIMESTAMP")
            .and_then(|v| v.first())
            .and_then(|raw| py_int(raw, 10))
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(entry.realtime as i64)
    }

    /// The kernel's `[%12.6f]` uptime: `_SOURCE_MONOTONIC_TIMESTAMP`, else the entry's
    /// monotonic time.
    fn kernel_stamp(entry: &RawEntry) -> String {
        let us: i128 = entry
            .get("_SOURCE_MONOTONIC_TIMESTAMP")
            .and_then(|v| v.first())
            .and_then(|raw| py_int(raw, 10))
            .and_then(|n| n.parse::<i128>().ok())
            .unwrap_or(entry.monotonic as i128);
        let sign = if us < 0 { "-" } else { "" };
        let a = us.unsigned_abs();
        format!(
            "[{:>12}]",
            format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
        )
    }

    /// Formats one entry.
    pub fn format(&self, entry: &RawEntry) -> JournalLine {
        let mut elems: Vec<String> = Vec::with_capacity(3);
        if let Some(h) = convert(entry, "_HOSTNAME").filter(Value::truthy) {
            elems.push(self.decode(&h));
        }
        let ident = convert(entry, "SYSLOG_IDENTIFIER")
            .filter(Value::truthy)
            .or_else(|| convert(entry, "_COMM").filter(Value::truthy));
        if let Some(id) = ident {
            let mut last = self.decode(&id);
            let pid = convert(entry, "SYSLOG_PID")
                .filter(Value::truthy)
                .or_else(|| convert(entry, "_PID").filter(Value::truthy));
            if let Some(p) = pid {
                last.push_str(&Self::pid(&p));
            }
            last.push(':');
            let kernel = last == "kernel:";
            elems.push(last);
            if kernel {
                elems.push(Self::kernel_stamp(entry));
            }
        }
        let msg = match convert(entry, "MESSAGE") {
            None => String::new(),
            Some(Value::List(l)) => l
                .iter()
                .map(|v| self.decode(v))
                .collect::<Vec<_>>()
                .join(" "),
            Some(v) => self.decode(&v),
        };
        elems.push(msg);
        let text = elems.join(" ").replace('\n', "\\n");
        let usec = Self::entry_usec(entry);
        let t = entry_time_at(usec, self.utc_offset);
        JournalLine {
            text,
            iso: t.iso,
            time: t.time,
            usec,
            cursor: entry.cursor.clone(),
        }
    }
}

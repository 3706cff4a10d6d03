//! Logging the 1.2 way: every message is `daemon.notice` with ident `portsentry[PID]`,
//! one datagram per message on `/dev/log`, the text sent as given (1.2's trailing `\n`
//! on some messages included).

use crate::sys;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// `LOG_DAEMON | LOG_NOTICE`.
pub const PRI_DAEMON_NOTICE: u8 = 3 * 8 + 5;

#[derive(Debug, Clone)]
enum Sink {
    Socket(PathBuf),
    Memory(Arc<Mutex<Vec<String>>>),
}

/// Where messages go; cheap to clone (one per mode thread).
#[derive(Debug, Clone)]
pub struct Logger {
    sink: Sink,
    stderr: bool,
}

impl Logger {
    /// Logs to the syslog socket at `path` (normally `/dev/log`).
    pub fn syslog(path: impl Into<PathBuf>) -> Self {
        Logger {
            sink: Sink::Socket(path.into()),
            stderr: false,
        }
    }

    /// Keeps messages in memory (tests); returns the shared buffer.
    pub fn memory() -> (Self, Arc<Mutex<Vec<String>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (
            Logger {
                sink: Sink::Memory(buf.clone()),
                stderr: false,
            },
            buf,
        )
    }

    /// Also copies every message to stderr (foreground debugging).
    pub fn with_stderr(mut self, on: bool) -> Self {
        self.stderr = on;
        self
    }

    /// Sends one message. Failures are ignored, like syslog(3) without LOG_CONS.
    pub fn log(&self, msg: &str) {
        if self.stderr {
            eprintln!(
                "portsentry[{}]: {}",
                std::process::id(),
                msg.trim_end_matches('\n')
            );
        }
        match &self.sink {
            Sink::Memory(buf) => buf
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(msg.to_owned()),
            Sink::Socket(path) => {
                let line = format_datagram(sys::now(), std::process::id(), msg);
                if let Ok(s) = UnixDatagram::unbound() {
                    let _ = s.send_to(line.as_bytes(), path);
                }
            }
        }
    }
}

/// The datagram glibc's syslog(3) sends: `<29>Mmm dd HH:MM:SS portsentry[PID]: msg`.
pub fn format_datagram(epoch: i64, pid: u32, msg: &str) -> String {
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let tm = sys::local_time(epoch);
    format!(
        "<{}>{} {:>2} {:02}:{:02}:{:02} portsentry[{}]: {}",
        PRI_DAEMON_NOTICE,
        MON[tm.mon as usize % 12],
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec,
        pid,
        msg
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagram_shape() {
        std::env::set_var("TZ", "UTC");
        // 2026-11-05 07:03:09 UTC
        let d = format_datagram(1793862189, 69, "adminalert: x\n");
        assert_eq!(d, "<29>Nov  5 07:03:09 portsentry[69]: adminalert: x\n");
    }
}

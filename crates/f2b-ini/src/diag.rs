//! Log records produced while reading configuration (upstream logs them through
//! Python's `logging`; the client prints them to stderr).

/// Severity, with upstream's level names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `DEBUG`
    Debug,
    /// `INFO`
    Info,
    /// `NOTICE` (25)
    Notice,
    /// `WARNING`
    Warning,
    /// `ERROR`
    Error,
}

impl Level {
    /// Upstream's level name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Notice => "NOTICE",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    /// Severity.
    pub level: Level,
    /// Upstream logger name, e.g. `fail2ban.configreader`.
    pub logger: &'static str,
    /// The message.
    pub message: String,
}

/// A sink collecting log records in order.
#[derive(Debug, Clone, Default)]
pub struct Diags {
    /// Records in emission order.
    pub records: Vec<Diag>,
}

impl Diags {
    /// Records a message.
    pub fn push(&mut self, level: Level, logger: &'static str, message: impl Into<String>) {
        self.records.push(Diag {
            level,
            logger,
            message: message.into(),
        });
    }
}

//! Log records emitted by actions: the server plugs its logger in through [`LogSink`].

use std::sync::Arc;

/// Severity, upstream's levels used by actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Command text and successful results.
    Debug,
    /// Informational (hints).
    Info,
    /// Notices.
    Notice,
    /// Warnings.
    Warning,
    /// Failed commands, failed invariant checks.
    Error,
    /// "Unable to restore environment".
    Critical,
}

/// Receiver of action log messages (`(level, message)`).
pub type LogSink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// A sink that drops everything.
pub fn discard() -> LogSink {
    Arc::new(|_, _| {})
}

/// A sink collecting messages in memory (handy for tests and diagnostics).
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<std::sync::Mutex<Vec<(Level, String)>>>);

impl Collector {
    /// A new, empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sink appending to this collector.
    pub fn sink(&self) -> LogSink {
        let inner = self.0.clone();
        Arc::new(move |l, m| {
            inner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((l, m.to_string()))
        })
    }

    /// The messages collected so far.
    pub fn messages(&self) -> Vec<(Level, String)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

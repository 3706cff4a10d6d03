//! [`JournalReader`]: an open journal with upstream's match bookkeeping, giving formatted
//! lines. fail2ban-regex iterates it from the start; the server's [`JournalSource`]
//! (crate::JournalSource) drives one from its thread.

use crate::args::match_groups;
use crate::format::{EntryFormatter, JournalLine};
use crate::reader::{Journal, JournalArgs};
use crate::Error;

/// After this many read errors in a row, iteration ends (upstream retries forever).
const MAX_CONSECUTIVE_ERRORS: usize = 100;

/// An open journal, its matches and a formatter.
pub struct JournalReader {
    /// The journal (for seeking and waiting).
    pub journal: Journal,
    /// How entries become lines.
    pub formatter: EntryFormatter,
    matches: Vec<Vec<String>>,
    errors: usize,
}

impl JournalReader {
    /// Opens a journal (positioned before its first entry).
    pub fn open(args: &JournalArgs, formatter: EntryFormatter) -> Result<JournalReader, Error> {
        Ok(JournalReader {
            journal: Journal::open(args)?,
            formatter,
            matches: Vec::new(),
            errors: 0,
        })
    }

    /// The match groups (AND inside a group, OR between groups).
    pub fn matches(&self) -> &[Vec<String>] {
        &self.matches
    }

    fn add_groups(&mut self, groups: Vec<Vec<String>>) -> Result<(), Error> {
        if !self.matches.is_empty() {
            self.journal.add_disjunction()?;
        }
        for g in groups {
            for m in &g {
                self.journal.add_match(m)?;
            }
            self.journal.add_disjunction()?;
            self.matches.push(g);
        }
        Ok(())
    }

    /// Upstream `addJournalMatch`: the words of one match, `+` between OR groups. On an
    /// invalid match the matches before this call are restored and the error returned.
    pub fn add_match<S: AsRef<str>>(&mut self, words: &[S]) -> Result<(), Error> {
        let before = self.matches.clone();
        match self.add_groups(match_groups(words)) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.set_matches(before)?;
                Err(e)
            }
        }
    }

    /// Replaces all match groups (upstream `resetJournalMatches` with a new list).
    pub fn set_matches(&mut self, groups: Vec<Vec<String>>) -> Result<(), Error> {
        self.journal.flush_matches();
        self.matches.clear();
        self.add_groups(groups)
    }

    /// Moves to the next entry and formats it: `Ok(None)` at the end.
    pub fn next_line(&mut self) -> Result<Option<JournalLine>, Error> {
        if !self.journal.step_next()? {
            return Ok(None);
        }
        let raw = self.journal.entry()?;
        Ok(Some(self.formatter.format(&raw)))
    }
}

/// fail2ban-regex's `journal_lines_gen`: all remaining lines; an entry that cannot be
/// read is skipped.
impl Iterator for JournalReader {
    type Item = JournalLine;

    fn next(&mut self) -> Option<JournalLine> {
        loop {
            match self.next_line() {
                Ok(l) => {
                    self.errors = 0;
                    return l;
                }
                Err(_) => {
                    self.errors += 1;
                    if self.errors >= MAX_CONSECUTIVE_ERRORS {
                        return None;
                    }
                }
            }
        }
    }
}

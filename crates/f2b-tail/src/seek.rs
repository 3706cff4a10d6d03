//! Upstream `FileFilter.seekToTime`: before the first read of a `head` file, a half-interval
//! search moves the start position to the first line dated at or after a target time
//! (normally now − findtime), so a big old log is not replayed. Dates come from the caller
//! (the filter's date detector) through a callback.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use crate::Encoding;

/// Extracts the time (epoch seconds) of a log line, `None` without a recognisable date.
pub type DateFn = Arc<Mutex<dyn FnMut(&str) -> Option<f64> + Send>>;

/// Upstream's `accuracy` (allowed non-moving steps).
const ACCURACY: u32 = 3;

struct Container<'a> {
    r: BufReader<&'a mut File>,
    pos: u64,
    encoding: Encoding,
}

impl Container<'_> {
    /// `FileContainer.seek(offs)`: go to `offs`, then (if not 0) to the start of the next line.
    fn seek(&mut self, offs: u64, end_line: bool) -> io::Result<u64> {
        self.r.seek(SeekFrom::Start(offs))?;
        self.pos = offs;
        if offs != 0 && end_line {
            let mut skip = Vec::new();
            self.pos += self.r.read_until(b'\n', &mut skip)? as u64;
        }
        Ok(self.pos)
    }

    /// `FileContainer.readline(complete=False)`: the next line even if incomplete, `None` at
    /// the end of the file.
    fn readline(&mut self) -> io::Result<Option<String>> {
        let mut raw = Vec::new();
        let n = self.r.read_until(b'\n', &mut raw)?;
        if n == 0 {
            return Ok(None);
        }
        self.pos += n as u64;
        let (text, _) = self.encoding.decode(&raw);
        Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
    }
}

/// Returns the position to start reading at: the first line dated `>= target` found by
/// upstream's search, starting from `start` (the saved position), or `start` for an empty
/// file.
pub fn seek_to_time(
    file: &mut File,
    start: u64,
    target: f64,
    encoding: Encoding,
    date_of: &mut dyn FnMut(&str) -> Option<f64>,
) -> io::Result<u64> {
    let fs = file.metadata()?.len();
    if fs == 0 {
        return Ok(start);
    }
    let mut c = Container {
        r: BufReader::new(file),
        pos: 0,
        encoding,
    };
    let (mut minp, mut maxp) = (start as i64, fs as i64);
    let mut try_pos = Some(minp);
    let mut last_pos: i64 = -1;
    let mut movecntr = ACCURACY;
    while maxp > minp {
        let mut pos = match try_pos.take() {
            Some(p) => p,
            None => minp + (maxp - minp) / 2,
        };
        pos = (pos - 2).max(0);
        let seekpos = c.seek(pos as u64, true)? as i64;
        pos = seekpos;
        let mut lncntr = 5;
        let mut matched: Option<f64> = None;
        let mut nextp: Option<i64> = None;
        while let Some(line) = c.readline()? {
            match date_of(&line) {
                Some(t) => matched = Some(t),
                None => {
                    let n = c.pos as i64;
                    nextp = Some(n);
                    if n > maxp {
                        pos = seekpos;
                        break;
                    }
                    pos = n;
                }
            }
            if matched.is_none() && lncntr > 0 {
                lncntr -= 1;
                continue;
            }
            break;
        }
        if let Some(t) = matched {
            if t >= target {
                if pos == maxp {
                    pos = seekpos;
                }
                if pos < maxp {
                    maxp = pos;
                }
            } else {
                pos = nextp.unwrap_or(c.pos as i64);
                if pos > minp {
                    minp = pos;
                }
            }
        }
        if pos == last_pos {
            movecntr -= 1;
            if movecntr == 0 {
                break;
            }
            if minp != last_pos {
                last_pos = minp;
                try_pos = Some(minp);
                continue;
            }
            break;
        }
        last_pos = pos;
    }
    c.seek(minp as u64, false)
}

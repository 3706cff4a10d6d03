//! The date detector (`datedetector.py`): a list of templates, the choice of the
//! template for a line (last winner first, then a scan preferring the leftmost
//! match) and the hit-based reordering that upstream does.

use crate::datetemplate::{self, DateTemplate, LINE_BEGIN, LINE_END};
use crate::pyre::Caps;
use crate::strptime;

/// A template in a detector, with its own statistics.
#[derive(Debug, Clone)]
pub struct DetectorTemplate {
    /// The template.
    pub template: DateTemplate,
    /// Times this template won.
    pub hits: u64,
    /// Last time it won ("now" of that line).
    pub last_used: f64,
    /// Start offset of its last winning match.
    pub distance: usize,
    /// Times the template regex matched at all (upstream's `template.hits`).
    pub match_hits: u64,
}

impl DetectorTemplate {
    fn new(template: DateTemplate) -> Self {
        DetectorTemplate {
            template,
            hits: 0,
            last_used: 0.0,
            distance: 0x7fff_ffff,
            match_hits: 0,
        }
    }

    /// `hits * template.weight / max(1, distance)`.
    pub fn weight(&self) -> f64 {
        self.hits as f64 * self.template.weight / (self.distance.max(1) as f64)
    }
}

/// Result of [`DateDetector::match_time`]: the match and the index of the winning
/// template (after reordering).
#[derive(Debug, Clone)]
pub struct TimeMatch {
    /// Spans of the template regex's groups in the line.
    pub caps: Caps,
    /// Index of the template in [`DateDetector::templates`].
    pub index: usize,
}

/// A date detector.
#[derive(Debug, Clone)]
pub struct DateDetector {
    templates: Vec<DetectorTemplate>,
    known_names: Vec<String>,
    unused_time: f64,
    last_pos: (usize, Option<char>, Option<char>),
    last_end_pos: (usize, Option<char>, Option<char>),
    last_templ_idx: usize,
    first_unused: usize,
    default_tz: Option<i32>,
    exy: String,
    lazy_defaults: bool,
    /// The last `get_time`: (template, date text, now, result). Consecutive log
    /// lines mostly carry the same second.
    last_time: Option<(usize, String, u64, Option<f64>)>,
    /// See [`DateDetector::minute_memo`].
    minute: MinuteMemo,
}

fn char_before(line: &str, pos: usize) -> Option<char> {
    line.get(..pos).and_then(|s| s.chars().next_back())
}

fn char_at(line: &str, pos: usize) -> Option<char> {
    line.get(pos..).and_then(|s| s.chars().next())
}

impl DateDetector {
    /// An empty detector; the defaults are loaded at the first match if no
    /// template was added. `now_year` selects the `%ExY` decades.
    pub fn new(now_year: i32) -> DateDetector {
        DateDetector {
            templates: Vec::new(),
            known_names: Vec::new(),
            unused_time: 300.0,
            last_pos: (1, None, None),
            last_end_pos: (0x7fff_ffff, None, None),
            last_templ_idx: 0x7fff_ffff,
            first_unused: 0,
            default_tz: None,
            exy: strptime::year_cent_re(now_year),
            lazy_defaults: true,
            last_time: None,
            minute: MinuteMemo::default(),
        }
    }

    /// The templates in their current order.
    pub fn templates(&self) -> &[DetectorTemplate] {
        &self.templates
    }

    /// Sets the `logtimezone` (e.g. `UTC+0200`); error if unknown.
    pub fn set_default_tz(&mut self, tz: Option<&str>) -> Result<(), String> {
        self.default_tz = match tz {
            None => None,
            Some(t) => Some(
                strptime::zone_to_offset(t)
                    .ok_or_else(|| format!("Unknown or unsupported time zone: {t:?}"))?,
            ),
        };
        Ok(())
    }

    fn push(&mut self, t: DateTemplate, ignore_dup: bool) -> Result<(), String> {
        if self.known_names.contains(&t.name) {
            if ignore_dup {
                return Ok(());
            }
            return Err(format!("There is already a template with name {}", t.name));
        }
        self.known_names.push(t.name.clone());
        self.templates.push(DetectorTemplate::new(t));
        Ok(())
    }

    /// `addDefaultTemplate(filter, preMatch, allDefaults)`.
    fn add_defaults(
        &mut self,
        line_begin_only: bool,
        pre_match: Option<&str>,
    ) -> Result<(), String> {
        let ignore_dup = !self.templates.is_empty();
        let list = if pre_match.is_some() {
            datetemplate::default_base(&self.exy)
        } else {
            datetemplate::default_all(&self.exy)
        };
        for t in list {
            if line_begin_only && t.flags & LINE_BEGIN == 0 {
                continue;
            }
            let t = match pre_match {
                Some(pm) => {
                    let wrap = |s: &str| pm.replacen_all_date(&datetemplate::unbound_pattern(s));
                    let t = datetemplate::anchored_template(&t, &wrap, &self.exy)?;
                    t.validate()?;
                    t
                }
                None => t,
            };
            self.push(t, ignore_dup)?;
        }
        Ok(())
    }

    /// `appendTemplate(pattern)` for one datepattern line.
    pub fn append_pattern(&mut self, pattern: &str) -> Result<(), String> {
        self.lazy_defaults = false;
        let key = if pattern.contains('%') {
            pattern.to_string()
        } else {
            pattern.to_uppercase()
        };
        if key == "{^LN-BEG}" || key == "{DEFAULT}" {
            return self.add_defaults(key == "{^LN-BEG}", None);
        }
        if key.contains("{DATE}") {
            return self.add_defaults(false, Some(pattern));
        }
        let mut t = if key == "{NONE}" {
            datetemplate::pattern_template("{UNB}^", Some(&key), &self.exy)?
        } else {
            datetemplate::pattern_template(pattern, Some(&key), &self.exy)?
        };
        t.validate()?;
        // upstream caches templates by pattern: a pattern equal to one of the
        // anchored default copies shares that object, whose weight is 100
        if t.name.starts_with("{^LN-BEG}") && self.anchored_default_names().contains(&t.name) {
            t.weight = 100.0;
        }
        self.push(t, false)
    }

    fn anchored_default_names(&self) -> Vec<String> {
        datetemplate::default_all(&self.exy)
            .into_iter()
            .filter(|t| t.weight > 1.0)
            .map(|t| t.name)
            .collect()
    }

    /// `setDatePattern(text)`: one template per non-empty line.
    pub fn with_patterns(now_year: i32, text: &str) -> Result<DateDetector, String> {
        let mut d = DateDetector::new(now_year);
        d.lazy_defaults = false;
        for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
            d.append_pattern(line)?;
        }
        Ok(d)
    }

    fn ensure_templates(&mut self) {
        if self.templates.is_empty() && self.lazy_defaults {
            let _ = self.add_defaults(false, None);
        }
    }

    /// `getDatePattern()`: `None` for "Default Detectors", else (pattern, name).
    pub fn date_pattern(&self) -> Option<(Option<String>, String)> {
        if self.templates.is_empty() || self.templates.len() > 2 {
            return None;
        }
        let t = &self.templates[0].template;
        Some((t.pattern.clone(), t.name.clone()))
    }

    fn try_template(&mut self, i: usize, line: &str, start: usize, end: usize) -> Option<Caps> {
        let m = self.templates[i].template.match_date(line, start, end);
        if m.is_some() {
            self.templates[i].match_hits += 1;
        }
        m
    }

    /// `matchTime(line)`.
    pub fn match_time(&mut self, line: &str, now: f64) -> Option<TimeMatch> {
        self.ensure_templates();
        let n = self.templates.len();
        let anchored = |t: &DetectorTemplate| t.template.flags & (LINE_BEGIN | LINE_END) != 0;
        let mut found: Option<(Caps, usize, usize, usize)> = None;
        let mut ignore_by_search = usize::MAX;
        let mut result: Option<(Caps, usize)> = None;
        let mut i = self.last_templ_idx;
        if i < n {
            let m = if anchored(&self.templates[i]) {
                ignore_by_search = i;
                self.try_template(i, line, 0, line.len())
            } else {
                let (distance, endpos) = (self.last_pos.0, self.last_end_pos.0);
                let lp = self.last_pos;
                let le = self.last_end_pos;
                let begin_ok = char_before(line, distance) == lp.1
                    || (char_at(line, distance) == lp.2
                        && !lp.2.is_some_and(|c| c.is_alphanumeric()));
                let end_ok = char_at(line, endpos) == le.2
                    || (char_before(line, endpos) == le.1
                        && !le.1.is_some_and(|c| c.is_alphanumeric()));
                if begin_ok && end_ok {
                    let len = line.len();
                    self.try_template(i, line, distance.min(len), endpos.min(len))
                } else {
                    ignore_by_search = i;
                    self.try_template(i, line, 0, line.len())
                }
            };
            if let Some(m) = m {
                let (distance, endpos) = (m.start(), m.end());
                if n == 1
                    || anchored(&self.templates[i])
                    || (distance == self.last_pos.0 && endpos == self.last_end_pos.0)
                {
                    result = Some((m, i));
                } else {
                    found = Some((m, distance, endpos, i));
                }
            }
        }
        if result.is_none() {
            let mut k = 0;
            while k < n {
                if k == ignore_by_search {
                    k += 1;
                    continue;
                }
                if let Some(m) = self.try_template(k, line, 0, line.len()) {
                    let distance = m.start();
                    if k + 1 >= n || anchored(&self.templates[k]) {
                        result = Some((m, k));
                        break;
                    }
                    if distance == 0
                        && self.templates[k].hits > 0
                        && self.templates[k + 1].match_hits == 0
                    {
                        result = Some((m, k));
                        break;
                    }
                    if distance > self.templates[k].distance || distance > self.last_pos.0 {
                        if found.as_ref().map_or(true, |f| distance < f.1) {
                            let endpos = m.end();
                            found = Some((m, distance, endpos, k));
                        }
                        k += 1;
                        continue;
                    }
                    result = Some((m, k));
                    break;
                }
                k += 1;
            }
            if result.is_none() {
                if let Some((m, _, _, k)) = found {
                    result = Some((m, k));
                }
            }
        }
        let (m, idx) = result?;
        i = idx;
        let (distance, endpos) = (m.start(), m.end());
        {
            let t = &mut self.templates[i];
            t.hits += 1;
            t.last_used = now;
            t.distance = distance;
        }
        if self.first_unused == i {
            self.first_unused += 1;
        }
        self.last_pos = (
            distance,
            char_before(line, distance),
            char_at(line, distance),
        );
        self.last_end_pos = (endpos, char_before(line, endpos), char_at(line, endpos));
        if i != 0 && i != self.last_templ_idx {
            i = self.reorder(i);
        }
        self.last_templ_idx = i;
        Some(TimeMatch { caps: m, index: i })
    }

    fn reorder(&mut self, num: usize) -> usize {
        let untime = self.templates[num].last_used - self.unused_time;
        let weight = self.templates[num].weight();
        let mut pos = if self.first_unused < num {
            self.first_unused
        } else {
            num / 2
        };
        let moveable = |ts: &[DetectorTemplate], pos: usize| {
            weight > ts[pos].weight() || untime > ts[pos].last_used
        };
        if !moveable(&self.templates, pos) {
            if pos == num - 1 {
                return num;
            }
            pos = num - 1;
            if !moveable(&self.templates, pos) {
                return num;
            }
        }
        let t = self.templates.remove(num);
        self.templates.insert(pos, t);
        while self.first_unused < self.templates.len() && self.templates[self.first_unused].hits > 0
        {
            self.first_unused += 1;
        }
        pos
    }

    /// True when the template of `m` yields integer times (Python `int`).
    pub fn int_time(&self, m: &TimeMatch) -> bool {
        self.templates[m.index].template.int_time()
    }

    /// The time of a strptime match from the last one of the same minute: a
    /// log has many lines per minute, and the full conversion (fields, local
    /// time, year and day guesses) is the same for all of them but for the
    /// seconds. A minute is memoised only when the conversion is linear over
    /// it: its seconds 00 and 59 give times 59 s apart (no guess about today or
    /// the year flips inside it, and no clock change, which happens on whole
    /// minutes anyway). `None`: not applicable, convert in full.
    fn minute_memo(&mut self, line: &str, m: &TimeMatch, now: f64) -> Option<Option<f64>> {
        let t = &self.templates[m.index].template;
        let (s0, s1) = t.second_span(&m.caps)?;
        let (w0, w1) = m.caps.spans.first().copied().flatten()?;
        let sec = line.get(s0..s1)?;
        if sec.len() != 2 || !sec.bytes().all(|b| b.is_ascii_digit()) || s0 < w0 || s1 > w1 {
            return None;
        }
        let v = f64::from((sec.as_bytes()[0] - b'0') * 10 + (sec.as_bytes()[1] - b'0'));
        if v > 59.0 {
            return None;
        }
        let (before, after) = (&line[w0..s0], &line[s1..w1]);
        let memo = &mut self.minute;
        if memo.set
            && memo.index == m.index
            && memo.now == now.to_bits()
            && memo.before == before
            && memo.after == after
        {
            return Some(memo.base.map(|b| b + v));
        }
        let tz = self.default_tz;
        let base = t.get_date_sec(line, &m.caps, now, tz, Some("00"));
        let end = t.get_date_sec(line, &m.caps, now, tz, Some("59"));
        let linear = match (base, end) {
            (Some(b), Some(e)) => e - b == 59.0,
            (None, None) => true,
            _ => false,
        };
        if !linear {
            return None;
        }
        memo.set = true;
        memo.index = m.index;
        memo.now = now.to_bits();
        memo.before.clear();
        memo.before.push_str(before);
        memo.after.clear();
        memo.after.push_str(after);
        memo.base = base;
        Some(base.map(|b| b + v))
    }

    /// `getTime(line, timeMatch)`: the time of a match, `None` if invalid.
    pub fn get_time(&mut self, line: &str, m: &TimeMatch, now: f64) -> Option<f64> {
        let text = m.caps.get(line, 0).unwrap_or("");
        if let Some((i, t, n, r)) = &self.last_time {
            if *i == m.index && *n == now.to_bits() && t == text {
                return *r;
            }
        }
        let r = self.minute_memo(line, m, now).unwrap_or_else(|| {
            self.templates[m.index]
                .template
                .get_date(line, &m.caps, now, self.default_tz)
        });
        match &mut self.last_time {
            Some((i, t, n, r0)) => {
                *i = m.index;
                t.clear();
                t.push_str(text);
                *n = now.to_bits();
                *r0 = r;
            }
            None => self.last_time = Some((m.index, text.to_string(), now.to_bits(), r)),
        }
        r
    }
}

/// The last minute converted: template, "now", the match's text around
/// its seconds, and the time of its second 00.
#[derive(Debug, Clone, Default)]
struct MinuteMemo {
    set: bool,
    index: usize,
    now: u64,
    before: String,
    after: String,
    base: Option<f64>,
}

trait ReplaceDate {
    fn replacen_all_date(&self, with: &str) -> String;
}

impl ReplaceDate for &str {
    /// `RE_DATE_PREMATCH.sub`: every unescaped `{DATE}` (case-insensitive).
    fn replacen_all_date(&self, with: &str) -> String {
        let mut out = String::new();
        let s = *self;
        let upper = s.to_ascii_uppercase();
        let mut i = 0;
        while let Some(p) = upper[i..].find("{DATE}") {
            let at = i + p;
            if at > 0 && s.as_bytes()[at - 1] == b'\\' {
                out.push_str(&s[i..at + 6]);
            } else {
                out.push_str(&s[i..at]);
                out.push_str(with);
            }
            i = at + 6;
        }
        out.push_str(&s[i..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() {
        std::env::set_var("TZ", "CET-01CEST-02,M3.5.0,M10.5.0");
    }

    #[test]
    fn syslog_and_iso_dates() {
        setup();
        let now = 1124013600.0;
        // (line, date text, time as local CET/CEST, year rolled back when in the future)
        let cases: &[(&str, &str, f64)] = &[
            (
                "Aug 14 11:59:59 host sshd[1]: x",
                "Aug 14 11:59:59",
                1124013599.0,
            ),
            ("Dec 31 11:59:59 host x", "Dec 31 11:59:59", 1104490799.0),
            ("2005-08-14 11:59:59 x", "2005-08-14 11:59:59", 1124013599.0),
            ("[1124013599] x", "1124013599", 1124013599.0),
            (
                "x 2005-08-14T09:59:59Z y",
                "2005-08-14T09:59:59Z",
                1124013599.0,
            ),
        ];
        for (line, text, t) in cases {
            let mut d = DateDetector::new(2026);
            let m = d.match_time(line, now).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(m.caps.get(line, 1), Some(*text), "{line}");
            assert_eq!(d.get_time(line, &m, now), Some(*t), "{line}");
        }
    }

    #[test]
    fn datepattern_lines() {
        setup();
        let mut d = DateDetector::with_patterns(2026, "^%Y-%m-%d %H:%M:%S\n{^LN-BEG}").unwrap();
        assert_eq!(d.templates().len(), 18);
        let line = "2005-08-14 11:59:59 a";
        let m = d.match_time(line, 1124013600.0).unwrap();
        assert_eq!(d.get_time(line, &m, 1124013600.0), Some(1124013599.0));
        let mut n = DateDetector::with_patterns(2026, "{NONE}").unwrap();
        let m = n.match_time("Aug 14 11:59:59 x", 0.0).unwrap();
        assert_eq!(m.caps.get("Aug 14 11:59:59 x", 1), Some(""));
        let e = DateDetector::with_patterns(2026, "^{DATE}").unwrap();
        assert_eq!(e.templates().len(), 17);
    }
    /// The same-minute memo gives the full conversion's result, also in the
    /// minutes where the year or "today" guess flips (now = mid-minute) and
    /// across a DST change.
    #[test]
    fn minute_memo_equals_full_conversion() {
        setup();
        // 2005-08-14 12:00:30 CEST; 2005-10-30 03:00 CEST -> 02:00 CET
        for now in [1124013630.0, 1130634030.0, 1124013600.0] {
            let mut memo = DateDetector::new(2026);
            let mut n = 0;
            for (fmt_i, fmt) in [
                "Aug 14 %H:%M:%S",
                "Aug 15 %H:%M:%S",
                "Oct 30 %H:%M:%S",
                "%H:%M:%S",
            ]
            .iter()
            .enumerate()
            {
                for h in [0, 1, 2, 3, 11, 12, 23] {
                    for mi in [0, 59] {
                        for sec in [0, 1, 29, 30, 31, 58, 59] {
                            let t = format!("{h:02}:{mi:02}:{sec:02}");
                            let line = format!("{} host x[1]: y", fmt.replace("%H:%M:%S", &t));
                            let m = memo.match_time(&line, now).unwrap();
                            let full = &memo.templates()[m.index].template;
                            let want = full.get_date(&line, &m.caps, now, None);
                            let got = memo.get_time(&line, &m, now);
                            assert_eq!(got, want, "{line} now={now} ({fmt_i})");
                            n += 1;
                        }
                    }
                }
            }
            assert!(n > 300);
        }
    }
}

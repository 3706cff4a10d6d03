//! fail2ban's `strptime.py`: the `%` token regexes, the template display names,
//! the zone abbreviation table and the conversion of matched fields to a time.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use crate::localtime;

/// Regex of a `%` token (`timeRE[key]`), `exy` is the `%ExY` year pattern.
pub fn time_re(key: &str, exy: &str) -> Option<String> {
    Some(match key {
        "%" => "%".into(),
        "A" => "(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)".into(),
        "B" => "(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)".into(),
        "ExH" => r"(?P<H>[0-1]\d|2[0-3])".into(),
        "ExM" => r"(?P<M>[0-5]\d)".into(),
        "ExS" => r"(?P<S>[0-5]\d|6[0-1])".into(),
        "ExY" => format!(r"(?P<Y>{exy}\d)"),
        "ExZ" => r"(?P<Z>[A-Z](?:[A-Z]{2,4})?)".into(),
        "Exd" => r"(?P<d>[1-2]\d|0[1-9]|3[0-1])".into(),
        "Exk" => r" ?(?P<H>[0-1]?\d|2[0-3])".into(),
        "Exl" => r" ?(?P<I>1[0-2]|\d)".into(),
        "Exm" => r"(?P<m>0[1-9]|1[0-2])".into(),
        "Exy" => r"(?P<y>\d{2})".into(),
        "Exz" => r"(?P<z>(?:[A-Z](?:[A-Z]{2,4})?)?[+-][01]\d(?::?\d{2})?|[A-Z](?:[A-Z]{2,4})?)".into(),
        "G" => r"(?P<G>\d\d\d\d)".into(),
        "H" => r"(?P<H>[0-1]?\d|2[0-3])".into(),
        "I" => r"(?P<I>1[0-2]|0[1-9]|[1-9])".into(),
        "M" => r"(?P<M>[0-5]?\d)".into(),
        "S" => r"(?P<S>[0-5]?\d|6[0-1])".into(),
        "U" => r"(?P<U>5[0-3]|[0-4]\d|\d)".into(),
        "V" => r"(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)".into(),
        "W" => r"(?P<W>5[0-3]|[0-4]\d|\d)".into(),
        "X" => r"(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)".into(),
        "Y" => r"(?P<Y>\d{4})".into(),
        "Z" => r"(?P<Z>Z|[A-Z]{3,5})".into(),
        "a" => "(?P<a>mon|tue|wed|thu|fri|sat|sun)".into(),
        "b" => "(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)".into(),
        "c" => r"(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)".into(),
        "d" => r"(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])".into(),
        "f" => r"(?P<f>[0-9]{1,6})".into(),
        "j" => r"(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])".into(),
        "k" => r" ?(?P<H>[0-2]?\d)".into(),
        "l" => r" ?(?P<I>1?\d)".into(),
        "m" => r"(?P<m>0?[1-9]|1[0-2])".into(),
        "p" => "(?P<p>am|pm)".into(),
        "u" => "(?P<u>[1-7])".into(),
        "w" => "(?P<w>[0-6])".into(),
        "x" => r"(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)".into(),
        "y" => r"(?P<y>\d\d)".into(),
        "z" => r"(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)".into(),
        _ => return None,
    })
}

/// Display name of a token (`getTimePatternRE` names).
pub fn time_name(key: &str) -> String {
    let base = |k: &str| -> Option<&'static str> {
        Some(match k {
            "a" => "DAY",
            "A" => "DAYNAME",
            "b" => "MON",
            "B" => "MONTH",
            "d" => "Day",
            "H" => "24hour",
            "I" => "12hour",
            "j" => "Yearday",
            "m" => "Month",
            "M" => "Minute",
            "p" => "AMPM",
            "S" => "Second",
            "U" => "Yearweek",
            "w" => "Weekday",
            "W" => "Yearweek",
            "y" => "Year2",
            "Y" => "Year",
            "%" => "%",
            "z" => "Zone offset",
            "f" => "Microseconds",
            "Z" => "Zone name",
            _ => return None,
        })
    };
    if let Some(n) = base(key) {
        return n.to_string();
    }
    if let Some(k) = key.strip_prefix("Ex") {
        if let Some(n) = base(k) {
            return format!("Ex{n}");
        }
    }
    format!("%{key}")
}

/// Multi-char token keys, in upstream's alternation order.
pub const LONG_KEYS: &[&str] = &[
    "ExZ", "Exz", "Exd", "Exm", "ExH", "Exk", "Exl", "ExM", "ExS", "ExY", "Exy",
];
/// Single-char token keys.
pub const SHORT_KEYS: &str = "dfHIGjmMSUwuVyYzAaBbpZ%WcxXkl";

/// `_getYearCentRE`: the century/decade prefix of `%ExY` for the current year
/// (and the test-suite's alternate year 2001).
pub fn year_cent_re(now_year: i32) -> String {
    let alt = 2001;
    let cent = |y: i32| y.to_string()[0..3].to_string();
    let mut set: Vec<String> = vec![cent(now_year - 1), cent(now_year + 3)];
    let mut y = alt - 1;
    while y < now_year + 1 {
        set.push(cent(y));
        y += 3;
    }
    set.sort();
    set.dedup();
    grp(&set)
}

fn grp(set: &[String]) -> String {
    if set.len() > 1 {
        let mut c: Option<String> = None;
        for i in set {
            let p = &i[..i.len().saturating_sub(1)];
            match &c {
                Some(cc) if cc != p => {
                    c = None;
                    break;
                }
                _ => c = Some(p.to_string()),
            }
        }
        if c.as_deref().map_or(true, str::is_empty) {
            c = None;
            for i in set {
                let p = &i[..1.min(i.len())];
                match &c {
                    Some(cc) if cc != p => {
                        c = None;
                        break;
                    }
                    _ => c = Some(p.to_string()),
                }
            }
        }
        if let Some(c) = c.filter(|c| !c.is_empty()) {
            let rest: Vec<String> = set.iter().map(|i| i[c.len()..].to_string()).collect();
            return format!("{c}{}", grp(&rest));
        }
        if set[0].len() > 1 {
            return format!("(?:{})", set.join("|"));
        }
        return format!("[{}]", set.concat());
    }
    set.concat()
}

const TZ_STR: &str = "
-12 Y
-11 X NUT SST
-10 W CKT HAST HST TAHT TKT
-9 V AKST GAMT GIT HADT HNY
-8 U AKDT CIST HAY HNP PST PT
-7 T HAP HNR MST PDT
-6 S CST EAST GALT HAR HNC MDT
-5 R CDT COT EASST ECT EST ET HAC HNE PET
-4 Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT
-3 P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT
-2 O BRST FNT PMDT UYST WGST
-1 N AZOT CVT EGT
0 Z EGST GMT UTC WET WT
1 A CET DFT WAT WEDT WEST
2 B CAT CEDT CEST EET SAST WAST
3 C EAT EEDT EEST IDT MSK
4 D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT
5 E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT
6 F ALMT BIOT BTT IOT KGT NOVT OMST YEKST
7 G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB
8 H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST
9 I AWDT IRKST JST KST PWT TLT WDT WIT YAKT
10 K AEST ChST PGT VLAT YAKST YAPT
11 L AEDT LHDT MAGT NCT PONT SBT VLAST VUT
12 M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT
13 FJST NZDT
11.5 NFT
10.5 ACDT LHST
9.5 ACST
6.5 CCT MMT
5.75 NPT
5.5 SLT
4.5 AFT IRDT
3.5 IRST
-2.5 HAT NDT
-3.5 HNT NST NT
-4.5 HLV VET
-9.5 MART MIT
";

/// Offset in minutes of a zone abbreviation (`TZ_ABBR_OFFS`).
pub fn abbr_offset(abbr: &str) -> Option<i32> {
    if abbr.is_empty() {
        return Some(0);
    }
    for line in TZ_STR.lines() {
        let mut it = line.split_whitespace();
        let Some(off) = it.next() else { continue };
        if it.any(|a| a == abbr) {
            let h: f64 = off.parse().ok()?;
            return Some((h * 60.0) as i32);
        }
    }
    None
}

/// `validateTimeZone` / `zone2offset` for a string such as `UTC`, `CET+0100`,
/// `-04:00`, `Z`: offset in minutes, `None` if unknown.
pub fn zone_to_offset(tz: &str) -> Option<i32> {
    // FIXED_OFFSET_TZ_RE = ([A-Z](?:[A-Z]{2,4})?)?([+-][01]\d(?::?\d{2})?)?$  (match at start)
    let b = tz.as_bytes();
    let mut i = 0;
    while i < b.len() && i < 5 && b[i].is_ascii_uppercase() {
        i += 1;
    }
    // abbreviation is 1 or 3..5 letters
    let mut abbr_len = i;
    if abbr_len == 2 {
        abbr_len = 1;
    }
    let (abbr, off) = tz.split_at(abbr_len);
    let offm = parse_offset(off)?;
    let base = abbr_offset(abbr)?;
    Some(base + offm)
}

/// `[+-]hh`, `[+-]hhmm`, `[+-]hh:mm` or empty → minutes.
fn parse_offset(s: &str) -> Option<i32> {
    if s.is_empty() {
        return Some(0);
    }
    let b = s.as_bytes();
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |r: &str| -> Option<i32> {
        if r.len() == 2 && r.bytes().all(|c| c.is_ascii_digit()) {
            r.parse().ok()
        } else {
            None
        }
    };
    let hh = digits(s.get(1..3)?)?;
    if hh > 19 {
        return None;
    }
    match s.len() {
        3 => Some(sign * hh * 60),
        5 => Some(sign * (hh * 60 + digits(&s[3..5])?)),
        6 if b[3] == b':' => Some(sign * (hh * 60 + digits(&s[4..6])?)),
        _ => None,
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const FULL_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The group names `group_dict_strptime` asks for.
pub const KEYS: [&str; 14] = [
    "y", "Y", "m", "B", "b", "d", "H", "I", "p", "M", "S", "j", "z", "Z",
];
// indices in KEYS
const YEAR2: usize = 0;
const YEAR: usize = 1;
const MONTH: usize = 2;
const MONTH_NAME: usize = 3;
const MONTH_ABBR: usize = 4;
const DAY: usize = 5;
const HOUR: usize = 6;
const HOUR12: usize = 7;
const AMPM: usize = 8;
const MINUTE: usize = 9;
pub(crate) const SECOND: usize = 10;
const JULIAN: usize = 11;
const TZ_OFFSET: usize = 12;
const TZ_NAME: usize = 13;

/// `reGroupDictStrptime`: the matched fields (`get(i)` gives field `KEYS[i]`) to epoch
/// seconds. `now` is the current time, `default_tz` the `logtimezone` offset in
/// minutes. `None` when the fields do not form a valid date (upstream's
/// `ValueError`).
pub fn group_dict_strptime<'a>(
    get: impl Fn(usize) -> Option<&'a str>,
    now: f64,
    default_tz: Option<i32>,
) -> Option<f64> {
    let num = |k: usize| -> Option<Option<i64>> {
        match get(k) {
            None => Some(None),
            Some(v) => v.trim().parse::<i64>().ok().map(Some),
        }
    };
    let mut year: Option<i64> = None;
    if let Some(y) = num(YEAR2)? {
        year = Some(if y <= 2000 { y + 2000 } else { y });
    }
    if let Some(y) = num(YEAR)? {
        year = Some(y);
    }
    let mut month = num(MONTH)?;
    if let Some(b) = get(MONTH_NAME) {
        month = Some(FULL_MONTHS.iter().position(|m| m.eq_ignore_ascii_case(b))? as i64 + 1);
    }
    if let Some(b) = get(MONTH_ABBR) {
        month = Some(MONTHS.iter().position(|m| m.eq_ignore_ascii_case(b))? as i64 + 1);
    }
    let mut day = num(DAY)?;
    let mut hour = num(HOUR)?.unwrap_or(0);
    if let Some(i) = num(HOUR12)? {
        hour = i;
        let ampm = get(AMPM).unwrap_or("").to_lowercase();
        if ampm.is_empty() || ampm == "am" {
            if hour == 12 {
                hour = 0;
            }
        } else if ampm == "pm" && hour != 12 {
            hour += 12;
        }
    }
    let minute = num(MINUTE)?.unwrap_or(0);
    let second = num(SECOND)?.unwrap_or(0);
    let julian = num(JULIAN)?;
    let mut tzoffset: Option<i32> = None;
    for k in [TZ_OFFSET, TZ_NAME] {
        if let Some(z) = get(k) {
            tzoffset = Some(if z == "Z" || z == "UTC" || z == "GMT" {
                0
            } else {
                zone_to_offset(z)?
            });
        }
    }
    let nowdt = localtime::localtime(now);
    let mut assume_year = false;
    let year = match year {
        Some(y) => y,
        None => {
            assume_year = true;
            nowdt.year() as i64
        }
    };
    if month.is_none() || day.is_none() {
        if let Some(j) = julian {
            let d = NaiveDate::from_ymd_opt(year as i32, 1, 1)? + Duration::days(j - 1);
            month = Some(d.month() as i64);
            day = Some(d.day() as i64);
        }
    }
    let mut assume_today = false;
    if month.is_none() && day.is_none() {
        month = Some(nowdt.month() as i64);
        day = Some(nowdt.day() as i64);
        assume_today = true;
    }
    // Python's datetime() requires both month and day (defaulting never happens)
    let (month, day) = (month?, day?);
    let mk = |y: i64, m: i64, d: i64| -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)?.and_hms_opt(
            hour as u32,
            minute as u32,
            second.min(59) as u32,
        )
    };
    let mut dt = mk(year, month, day)?;
    if second > 59 {
        // Python's datetime rejects second 60/61
        return None;
    }
    if tzoffset.is_none() {
        tzoffset = default_tz;
    }
    if let Some(off) = tzoffset {
        dt -= Duration::minutes(off as i64);
    }
    if assume_today && dt > nowdt {
        dt -= Duration::days(1);
    }
    if assume_year && dt > nowdt + Duration::days(1) {
        dt =
            NaiveDate::from_ymd_opt(year as i32 - 1, month as u32, day as u32)?.and_time(dt.time());
    }
    Some(if tzoffset.is_some() {
        localtime::timegm(&dt) as f64
    } else {
        localtime::mktime(&dt) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_prefix() {
        assert_eq!(year_cent_re(2026), "20[012]");
        assert_eq!(year_cent_re(2005), "200");
        assert_eq!(year_cent_re(2031), "20[0123]");
    }

    #[test]
    fn zones() {
        let cases: &[(&str, Option<i32>)] = &[
            ("UTC", Some(0)),
            ("CET", Some(60)),
            ("+0100", Some(60)),
            ("-04:00", Some(-240)),
            ("+05", Some(300)),
            ("UTC+0200", Some(120)),
            ("NPT", Some(345)),
            ("XYZ", None),
            ("+2500", None),
        ];
        for (z, want) in cases {
            assert_eq!(zone_to_offset(z), *want, "{z}");
        }
    }
}

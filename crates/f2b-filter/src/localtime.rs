//! Local time conversions with the semantics of Python's `time.mktime` and
//! `datetime.fromtimestamp` (system time zone, honouring the `TZ` environment
//! variable including POSIX rules such as `CET-01CEST-02,M3.5.0,M10.5.0`).

use std::cell::Cell;

use chrono::{DateTime, Datelike, Local, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};

type HourKey = (i64, u32);

thread_local! {
    /// Epoch of the last local hour converted, when the hour has no transition.
    static HOUR: Cell<Option<(HourKey, i64)>> = const { Cell::new(None) };
    static LOCAL: Cell<Option<(i64, i64)>> = const { Cell::new(None) };
}

/// `time.mktime(dt.timetuple())` with `tm_isdst = -1`: a naive local time to epoch
/// seconds. A time in a DST gap is taken with the offset before the gap (as
/// glibc does); an ambiguous time takes the earlier instant.
pub fn mktime(ndt: &NaiveDateTime) -> i64 {
    // log lines come in runs of the same hour: convert each hour once
    let key: HourKey = (ndt.date().num_days_from_ce() as i64, ndt.hour());
    let within = (ndt.minute() * 60 + ndt.second()) as i64;
    if let Some((k, base)) = HOUR.with(Cell::get) {
        if k == key {
            return base + within;
        }
    }
    let start = ndt.with_minute(0).and_then(|d| d.with_second(0));
    if let Some(start) = start {
        let base = mktime_slow(&start);
        let last = start + chrono::Duration::seconds(3599);
        if mktime_slow(&last) == base + 3599 {
            HOUR.with(|h| h.set(Some((key, base))));
            return base + within;
        }
    }
    mktime_slow(ndt)
}

fn mktime_slow(ndt: &NaiveDateTime) -> i64 {
    match Local.from_local_datetime(ndt) {
        LocalResult::Single(t) => t.timestamp(),
        LocalResult::Ambiguous(a, b) => a.timestamp().min(b.timestamp()),
        LocalResult::None => {
            // offset in force just before the gap
            let before = *ndt - chrono::Duration::hours(3);
            let off = match Local.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    t.offset().local_minus_utc() as i64
                }
                LocalResult::None => 0,
            };
            ndt.and_utc().timestamp() - off
        }
    }
}

/// `datetime.fromtimestamp(t)`: epoch seconds to naive local time.
pub fn localtime(t: f64) -> NaiveDateTime {
    let secs = t.floor() as i64;
    let nanos = ((t - t.floor()) * 1e9) as u32;
    // the offset of a second does not depend on its fraction
    if let Some((s, off)) = LOCAL.with(Cell::get) {
        if s == secs {
            if let Some(u) = DateTime::<Utc>::from_timestamp(secs + off, nanos) {
                return u.naive_utc();
            }
        }
    }
    match DateTime::<Utc>::from_timestamp(secs, nanos) {
        Some(u) => {
            let l = u.with_timezone(&Local);
            LOCAL.with(|c| c.set(Some((secs, l.offset().local_minus_utc() as i64))));
            l.naive_local()
        }
        None => DateTime::<Utc>::UNIX_EPOCH.naive_utc(),
    }
}

/// `calendar.timegm`: a naive UTC time to epoch seconds.
pub fn timegm(ndt: &NaiveDateTime) -> i64 {
    ndt.and_utc().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn posix_tz_rules() {
        // SAFETY-free: tests in this module are the only users of TZ in this crate's tests
        std::env::set_var("TZ", "CET-01CEST-02,M3.5.0,M10.5.0");
        let summer = NaiveDate::from_ymd_opt(2005, 8, 14)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(mktime(&summer), 1124013600);
        let winter = NaiveDate::from_ymd_opt(2005, 1, 23)
            .unwrap()
            .and_hms_opt(21, 59, 59)
            .unwrap();
        assert_eq!(mktime(&winter), 1106513999);
        assert_eq!(localtime(1124013600.0), summer);
    }
}

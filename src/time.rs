//! Beijing time, layer 1 (shared helpers): the one offset every date in
//! kuaibao is read, stored and shown in.
//!
//! Outlets write their dates without a zone and mean Beijing time; editors
//! count days in it; the store keeps timestamps in it so that text order is
//! time order. Asia/Shanghai has had no daylight saving time since 1991, so
//! a fixed +08:00 offset is exact and needs no time-zone database.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// +08:00.
const OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// The Beijing offset, +08:00.
pub fn beijing() -> FixedOffset {
    OFFSET
}

/// `t` as Beijing wall-clock time.
pub fn in_beijing<Tz: TimeZone>(t: &DateTime<Tz>) -> DateTime<FixedOffset> {
    t.with_timezone(&OFFSET)
}

/// Now, in Beijing time.
pub fn now() -> DateTime<FixedOffset> {
    in_beijing(&Utc::now())
}

/// Today's date in Beijing.
pub fn today() -> NaiveDate {
    now().date_naive()
}

/// `t`'s calendar date in Beijing, `YYYY-MM-DD`.
pub fn date_string<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    in_beijing(t).format("%Y-%m-%d").to_string()
}

/// A Beijing wall-clock time; `None` when the fields name no time.
pub fn at(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
) -> Option<DateTime<FixedOffset>> {
    OFFSET
        .with_ymd_and_hms(year, month, day, hour, min, sec)
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_counted_in_beijing() {
        let utc = Utc.with_ymd_and_hms(2025, 6, 30, 17, 30, 0).unwrap();
        assert_eq!(date_string(&utc), "2025-07-01");
        assert_eq!(in_beijing(&utc).to_rfc3339(), "2025-07-01T01:30:00+08:00");
        assert_eq!(
            at(2025, 1, 1, 0, 0, 0).map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-01-01T00:00:00+08:00")
        );
        assert_eq!(at(2025, 2, 30, 0, 0, 0), None);
        assert_eq!(beijing().local_minus_utc(), 8 * 3600);
        assert_eq!(now().offset().local_minus_utc(), 8 * 3600);
        assert!(today() >= NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
    }
}

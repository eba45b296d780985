//! Windows FILETIME values as readable UTC timestamps, without a date library.

/// 100-ns intervals between 1601-01-01 and 1970-01-01.
const EPOCH_DIFF_100NS: u64 = 116_444_736_000_000_000;

/// Seconds since the Unix epoch for a FILETIME, or `None` for 0 and values before 1970.
pub fn filetime_to_unix(ft: u64) -> Option<i64> {
    if ft <= EPOCH_DIFF_100NS {
        return None;
    }
    i64::try_from((ft - EPOCH_DIFF_100NS) / 10_000_000).ok()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
pub fn unix_to_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// RFC 3339 text for a FILETIME (None when unset).
pub fn filetime_to_rfc3339(ft: u64) -> Option<String> {
    filetime_to_unix(ft).map(unix_to_rfc3339)
}

/// `YYYYMMDD-HHMMSS` (for store names) for Unix seconds.
pub fn unix_to_compact(secs: i64) -> String {
    let s = unix_to_rfc3339(secs);
    format!(
        "{}{}{}-{}{}{}",
        &s[0..4],
        &s[5..7],
        &s[8..10],
        &s[11..13],
        &s[14..16],
        &s[17..19]
    )
}

/// `08 Jun 2006, 13:49:13 +00:00`: the date and time fields of USMT's progress log, in UTC
/// (the offset says so).
pub fn unix_to_usmt_progress(secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let month = (m as usize)
        .checked_sub(1)
        .and_then(|i| MONTHS.get(i))
        .unwrap_or(&"Jan");
    format!(
        "{d:02} {month} {y:04}, {:02}:{:02}:{:02} +00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds for `YYYY-MM-DDTHH:MM:SSZ` (the form detect writes).
pub fn rfc3339_to_unix(s: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (inverse of time::civil_from_days).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(unix_to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_to_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        // 2021-06-01T12:34:56Z
        assert_eq!(unix_to_rfc3339(1_622_550_896), "2021-06-01T12:34:56Z");
        assert_eq!(unix_to_compact(1_622_550_896), "20210601-123456");
        // FILETIME of 2009-07-14T01:14:24Z (a Windows 7 install date era value).
        let ft = (1_247_534_064u64) * 10_000_000 + EPOCH_DIFF_100NS;
        assert_eq!(
            filetime_to_rfc3339(ft).as_deref(),
            Some("2009-07-14T01:14:24Z")
        );
        assert_eq!(filetime_to_rfc3339(0), None);
    }
}

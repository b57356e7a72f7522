//! Cue timestamps and timing lines, as SRT and WebVTT write them.
//!
//! A timestamp past [`MAX_MEDIA_MS`] (100 hours) is an error, not a time: no video is that long,
//! and later arithmetic on samples must stay in range.

use crate::segment::MAX_MEDIA_MS;

/// Parse `HH:MM:SS,mmm`, `H:MM:SS.mmm` or (hours omitted) `MM:SS.mmm` into milliseconds.
/// The fraction may have 1–3 digits (`,5` is 500 ms) or be absent; `.` and `,` are both accepted.
/// Times past [`MAX_MEDIA_MS`] are refused.
pub fn parse_timestamp(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let bad = |why: &str| format!("invalid timestamp `{s}`: {why} (expected `HH:MM:SS,mmm`)");
    let (clock, fraction) = match s.find([',', '.']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad("needs minutes and seconds separated by `:`"));
    }
    let mut numbers = Vec::with_capacity(3);
    for part in &parts {
        if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("hours, minutes and seconds must be digits"));
        }
        numbers.push(
            part.parse::<u64>()
                .map_err(|_| bad("number out of range"))?,
        );
    }
    let (hours, minutes, seconds) = match numbers[..] {
        [h, m, s] => (h, m, s),
        [m, s] => (0, m, s),
        _ => unreachable!("checked: two or three parts"),
    };
    if seconds >= 60 || (parts.len() == 3 && minutes >= 60) {
        return Err(bad("minutes and seconds must be below 60"));
    }
    let millis = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            // Scale to milliseconds, rounding digits beyond the third.
            let value: u64 = f.parse().map_err(|_| bad("bad fraction"))?;
            let scale = 10u64.pow(f.len() as u32);
            (value * 1000 + scale / 2) / scale
        }
        Some(_) => return Err(bad("the fraction after `,` or `.` must be 1–3 digits")),
    };
    // At most nine digits per part: this cannot overflow a u64.
    let ms = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis;
    if ms > MAX_MEDIA_MS {
        return Err(format!(
            "invalid timestamp `{s}`: past {}, longer than any video",
            format_timestamp(MAX_MEDIA_MS, ',')
        ));
    }
    Ok(ms)
}

/// `HH:MM:SS<sep>mmm`: `,` for SRT, `.` for WebVTT.
pub fn format_timestamp(ms: u64, sep: char) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}{sep}{milli:03}")
}

/// Append one cue's timing line and text (lines trimmed, blank lines removed since they would end
/// the cue early), then the blank line that ends it.
pub fn push_cue(out: &mut String, start_ms: u64, end_ms: u64, sep: char, text: &str) {
    out.push_str(&format!(
        "{} --> {}\n",
        format_timestamp(start_ms, sep),
        format_timestamp(end_ms, sep)
    ));
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

/// Does this line try to be a timing line? (An arrow between two times, even a malformed one, so
/// that a broken timing line is reported rather than read as subtitle text.)
pub fn looks_like_timing(line: &str) -> bool {
    let t = line.trim_start();
    t.contains("-->") || (t.starts_with(|c: char| c.is_ascii_digit()) && t.contains("->"))
}

/// Parse `start --> end [settings]` into (start, end) milliseconds; settings are ignored.
pub fn parse_timing(line: &str) -> Result<(u64, u64), String> {
    let Some((left, right)) = line.split_once("-->") else {
        return Err(format!(
            "invalid timing line `{}`: expected `-->` between start and end",
            line.trim()
        ));
    };
    let start = parse_timestamp(left)?;
    let end_token = right.split_whitespace().next().unwrap_or("");
    let end = parse_timestamp(end_token)?;
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_world_variants() {
        assert_eq!(parse_timestamp("00:00:01,999"), Ok(1999));
        assert_eq!(parse_timestamp("00:00:02.000"), Ok(2000));
        assert_eq!(parse_timestamp("1:02:03,4"), Ok(3_723_400));
        assert_eq!(parse_timestamp("00:01,05"), Ok(1050));
        assert_eq!(parse_timestamp("01:02.003"), Ok(62_003));
        assert_eq!(parse_timestamp("00:00:07"), Ok(7000));
        assert!(parse_timestamp("00:00:61,000").is_err());
        assert!(parse_timestamp("00:0a:01,000").is_err());
        assert!(parse_timestamp("12").is_err());
        assert!(parse_timestamp("00:00:01,").is_err());
    }

    #[test]
    fn refuses_times_past_any_video() {
        assert_eq!(parse_timestamp("100:00:00,000"), Ok(MAX_MEDIA_MS));
        let err = parse_timestamp("99999:00:00,000").unwrap_err();
        assert!(err.contains("`99999:00:00,000`"), "{err}");
        assert!(err.contains("past 100:00:00,000"), "{err}");
        assert!(parse_timestamp("999999999:00:00,000").is_err());
        assert!(parse_timestamp("100:00:00,001").is_err());
    }

    #[test]
    fn formats_exactly() {
        assert_eq!(format_timestamp(2000, ','), "00:00:02,000");
        assert_eq!(format_timestamp(3_723_456, '.'), "01:02:03.456");
    }

    #[test]
    fn timing_lines() {
        assert_eq!(
            parse_timing("00:01.000 --> 00:02.500 align:start line:0"),
            Ok((1000, 2500))
        );
        assert!(parse_timing("00:00:01,000 -> 00:00:02,000").is_err());
        assert!(looks_like_timing("00:00:01,000 -> 00:00:02,000"));
        assert!(!looks_like_timing("a -> b"));
    }
}

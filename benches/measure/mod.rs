//! What a benchmark reads of its own process from /proc (Linux): CPU time, and resident memory
//! now and at its peak. The machine is shared, so wall time alone says little about the code,
//! and memory must be read where it is spent. Elsewhere the figures read 0.

#![allow(dead_code)] // Each benchmark uses a different part.

/// CPU time of this process (user + system, all threads) in seconds (10 ms ticks).
pub fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name (which may hold
    // spaces, hence the split at its closing parenthesis).
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory now, in MB.
pub fn rss_mb() -> f64 {
    status_mb("VmRSS:")
}

/// Peak resident memory since the start or the last [`reset_peak`], in MB.
pub fn peak_mb() -> f64 {
    status_mb("VmHWM:")
}

/// Resets the peak (`5` to clear_refs), so the next reading is of what follows alone.
pub fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").ok();
}

/// A memory figure of /proc/self/status in MB.
fn status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

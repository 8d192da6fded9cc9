//! Restarting a simulated cluster (`kindscope sim serve` runs one until a signal, and may be run
//! again): resource versions that keep growing across runs.

/// Milliseconds since 2020 × 1000: grows across restarts faster than any run hands out
/// versions (a synthetic cluster creates ~25,000 objects at once, more than 1,000 a second),
/// so a restarted sim never reuses a version an earlier run issued. Pass it as
/// [`SimOptions::start_resource_version`](crate::SimOptions::start_resource_version).
pub fn version_base() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    millis
        .saturating_sub(1_577_836_800_000)
        .saturating_mul(1000)
}

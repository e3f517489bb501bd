//! How much memory loaded arrays may take: probing physical memory and the cgroup limit.

use std::fs;

/// `--max-memory` when the user gave one, so that messages say whose limit was reached.
static MAX_MEMORY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Records the user's `--max-memory` (once, before loading).
pub fn set_max_memory(bytes: u64) {
    let _ = MAX_MEMORY.set(bytes);
}

/// How messages name a memory limit: `--max-memory` when it is the user's.
pub(crate) fn limit_source(limit: u64) -> &'static str {
    if MAX_MEMORY.get() == Some(&limit) {
        "--max-memory allows"
    } else {
        "this machine can spare"
    }
}

/// Memory limit used when `/proc/meminfo` cannot be read.
pub const FALLBACK_MEMORY_LIMIT: u64 = 8 << 30;

/// Arrays at least this large (as float64) are announced before they are read.
pub const ANNOUNCE_BYTES: u64 = 256 << 20;

/// How much memory the loaded float64 arrays may take: 75 % of physical memory (or of the
/// cgroup limit, if smaller), or [`FALLBACK_MEMORY_LIMIT`] when neither can be read.
pub fn memory_limit() -> u64 {
    let total = meminfo_total();
    let cgroup = cgroup_limit();
    let physical = match (total, cgroup) {
        (Some(t), Some(c)) => t.min(c),
        (Some(t), None) => t,
        (None, Some(c)) => c,
        (None, None) => return FALLBACK_MEMORY_LIMIT,
    };
    physical / 4 * 3
}

fn meminfo_total() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024).filter(|&b| b > 0)
}

fn cgroup_limit() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|p| fs::read_to_string(p).ok())
    .filter_map(|t| t.trim().parse::<u64>().ok())
    // cgroup v1 reports "no limit" as a number near 2^63.
    .find(|&b| b > 0 && b < (1u64 << 60))
}

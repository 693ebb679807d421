//! CPU time and peak memory of a process, from `/proc`.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU time `pid` has used so far.
pub fn cpu_ticks(pid: u32) -> CpuTime {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)` closing parenthesis; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    CpuTime(field(11) + field(12))
}

/// Peak resident set size of `pid` in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime(u64);

impl CpuTime {
    pub fn as_duration(self) -> Duration {
        Duration::from_secs_f64(self.0 as f64 / TICKS_PER_SECOND)
    }
}

impl std::ops::Sub for CpuTime {
    type Output = CpuTime;

    fn sub(self, rhs: Self) -> Self {
        CpuTime(self.0.saturating_sub(rhs.0))
    }
}

//! Phase timings on stderr when `PROMOLINT_TIMINGS` is set: how `docs/performance.md`
//! attributes a run's wall time to its phases without a profiler.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("PROMOLINT_TIMINGS").map(|_| Instant::now()))
}

/// Print the time since the first call (the start of the run) and the phase that ended.
pub fn phase(name: &str) {
    if let Some(t0) = start() {
        eprintln!(
            "promolint timing: {:>8.1} ms  {name}",
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
}

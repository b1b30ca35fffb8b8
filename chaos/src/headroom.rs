//! The machine's headroom while a scenario runs: the share of CPU time left idle (from
//! `/proc/stat`) and the run queue (runnable threads, from `/proc/loadavg`, sampled every
//! 250 ms). A throughput measured while the cores are saturated measures the machine, not the
//! design: the flash sale prints these beside its figures and voids a ratio taken without
//! headroom.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Below this share of idle CPU, a figure is the machine's, not the model's.
pub const MIN_IDLE: f64 = 0.20;

/// What the machine had to spare over one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headroom {
    /// Idle share of all cores' time (0.0 to 1.0); `None` where `/proc/stat` is not readable.
    pub idle: Option<f64>,
    pub run_queue_mean: f64,
    pub run_queue_max: u32,
    pub cores: usize,
}

impl Headroom {
    /// Whether the machine saturated, so that a throughput measured meanwhile is void.
    pub fn saturated(&self) -> bool {
        self.idle.is_some_and(|idle| idle < MIN_IDLE) || self.run_queue_mean > self.cores as f64
    }

    pub fn describe(&self) -> String {
        let idle = self
            .idle
            .map_or("unknown".to_owned(), |i| format!("{:.0} %", i * 100.0));
        format!(
            "CPU idle {idle} of {} cores, run queue mean {:.1} / max {}{}",
            self.cores,
            self.run_queue_mean,
            self.run_queue_max,
            if self.saturated() { " (SATURATED)" } else { "" }
        )
    }
}

/// (idle, total) jiffies of all cores.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    let total = fields.iter().take(8).sum();
    Some((idle, total))
}

/// Runnable threads now (the `running` of `running/total` in `/proc/loadavg`).
fn runnable() -> Option<u32> {
    let load = std::fs::read_to_string("/proc/loadavg").ok()?;
    load.split_whitespace()
        .nth(3)?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// A measurement in progress.
pub struct Sampler {
    start: Option<(u64, u64)>,
    stop: Arc<AtomicBool>,
    samples: tokio::task::JoinHandle<Vec<u32>>,
}

impl Sampler {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let samples = tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                if let Some(n) = runnable() {
                    // Less the thread that reads it, which is always running then.
                    samples.push(n.saturating_sub(1));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            samples
        });
        Self {
            start: cpu_times(),
            stop,
            samples,
        }
    }

    pub async fn finish(self) -> Headroom {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self.samples.await.unwrap_or_default();
        let idle = match (self.start, cpu_times()) {
            (Some((idle0, total0)), Some((idle1, total1))) if total1 > total0 => {
                Some((idle1 - idle0) as f64 / (total1 - total0) as f64)
            }
            _ => None,
        };
        Headroom {
            idle,
            run_queue_mean: samples.iter().map(|&n| f64::from(n)).sum::<f64>()
                / samples.len().max(1) as f64,
            run_queue_max: samples.iter().copied().max().unwrap_or(0),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(idle: f64, run_queue_mean: f64) -> Headroom {
        Headroom {
            idle: Some(idle),
            run_queue_mean,
            run_queue_max: 0,
            cores: 2,
        }
    }

    #[test]
    fn a_figure_taken_without_headroom_is_void() {
        assert!(!with(0.5, 1.0).saturated());
        assert!(with(0.1, 1.0).saturated(), "under a fifth idle");
        assert!(
            with(0.5, 2.5).saturated(),
            "more runnable threads than cores"
        );
        assert!(with(0.1, 1.0).describe().contains("SATURATED"));
    }

    #[tokio::test]
    async fn this_machine_can_be_read() {
        let sampler = Sampler::start();
        // Long enough for the kernel's clock ticks to move.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let headroom = sampler.finish().await;
        assert!(headroom.cores >= 1);
        if std::path::Path::new("/proc/stat").exists() {
            assert!(headroom.idle.is_some_and(|i| (0.0..=1.0).contains(&i)));
        }
    }
}

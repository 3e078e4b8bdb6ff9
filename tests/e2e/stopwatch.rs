//! How long each step of a long check took, so that the slow one shows in the tier's output and
//! CI time can be spent where it goes.

use std::time::{Duration, Instant};

/// How long each validator took, so a slow one shows in the tier's output.
#[derive(Default)]
pub struct Stopwatch {
    laps: Vec<(&'static str, Duration)>,
}

impl Stopwatch {
    pub fn time<T>(&mut self, what: &'static str, step: impl FnOnce() -> T) -> T {
        let began = Instant::now();
        let result = step();
        self.laps.push((what, began.elapsed()));
        result
    }

    /// `name 1.2s, …`, slowest first, steps under a tenth of a second left out.
    pub fn summary(&self) -> String {
        let mut laps: Vec<_> = self.laps.iter().filter(|(_, d)| d.as_millis() >= 100).collect();
        laps.sort_by_key(|lap| std::cmp::Reverse(lap.1));
        if laps.is_empty() {
            return "every step under 0.1s".into();
        }
        laps.iter().map(|(what, d)| format!("{what} {:.1}s", d.as_secs_f64())).collect::<Vec<_>>().join(", ")
    }
}

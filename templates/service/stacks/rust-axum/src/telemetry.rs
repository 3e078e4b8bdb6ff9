//! Metrics in the Prometheus text format, served on `GET /metrics`: the request metrics below,
//! with the same names, labels and buckets in every service of this template, plus the `process_*`
//! metrics of the process (CPU, memory, open files, threads).

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_process::Collector;

/// Requests served, by method, route and status.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// Request latency in seconds, by method, route and status.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// The `route` label of a request that no route handles (404, and 405 on a known path).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Histogram buckets for request latency, in seconds (5 ms to 10 s).
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder drops expired histogram samples.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process-wide metrics registry. Cloning it is cheap.
#[derive(Debug, Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    process: Collector,
}

impl Metrics {
    /// The registry in the Prometheus text format, with the process metrics read just now.
    #[must_use]
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.render()
    }

    /// Keeps the recorder's memory bounded; runs until the task is dropped.
    pub async fn run_upkeep(self) {
        let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            interval.tick().await;
            self.handle.run_upkeep();
        }
    }
}

/// Installs the process-wide metrics recorder and returns the registry.
///
/// # Errors
///
/// Fails if a recorder is already installed.
pub fn install_recorder() -> Result<Metrics, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), DURATION_BUCKETS)?
        .install_recorder()?;
    describe_counter!(REQUESTS_TOTAL, Unit::Count, "HTTP requests served.");
    describe_histogram!(REQUEST_DURATION, Unit::Seconds, "HTTP request latency.");
    let process = Collector::default();
    process.describe();
    Ok(Metrics { handle, process })
}

/// Records one served request.
///
/// `route` must be the matched route template (such as `/items/{id}`) or [`UNMATCHED_ROUTE`],
/// never the raw path, so that the number of time series stays bounded.
pub fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    counter!(REQUESTS_TOTAL, &labels).increment(1);
    histogram!(REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
}

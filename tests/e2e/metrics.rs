//! `/metrics` after traffic, held to the one metrics contract of every stack:
//! `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route,status}`
//! with exactly those labels, `method` upper-case, `status` the numeric code, `route` the template
//! (`/items/{id}`, never a concrete id) or `unmatched` for 404s and 405s, histogram buckets exactly
//! 0.005 … 10 and +Inf, every request counted (a counted burst of misses moves the counter and the
//! histogram by exactly its size), and the runtime's own `process_*` metrics beside them.

use std::collections::BTreeMap;

use crate::http;

/// The contract's histogram buckets, without +Inf.
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The request counter.
pub const COUNTER: &str = "http_requests_total";

/// The request duration histogram.
pub const HISTOGRAM: &str = "http_request_duration_seconds";

/// One sample of the text exposition format.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket`, `_sum`, `_count` suffixes as exposed).
    pub name: String,
    /// Label pairs.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

impl Sample {
    fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// A parsed exposition, with its `# TYPE` lines.
#[derive(Debug, Default)]
pub struct Scrape {
    /// Every sample line.
    pub samples: Vec<Sample>,
    /// Metric family name → declared type.
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// Parses the Prometheus text format (0.0.4, and the OpenMetrics lines it shares).
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let mut scrape = Scrape::default();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                    scrape.types.insert(name.to_string(), kind.to_string());
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let sample = parse_sample(line).map_err(|e| format!("line {}: {e}: {line:?}", number + 1))?;
            scrape.samples.push(sample);
        }
        Ok(scrape)
    }

    /// The value of the sample `name` whose labels are exactly `labels` (0 when absent).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels.len() == labels.len() && labels.iter().all(|(k, v)| s.label(k) == *v))
            .map_or(0.0, |s| s.value)
    }

    /// Samples named `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace()).ok_or("no value")?;
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        let mut end = None;
        loop {
            while chars.peek().is_some_and(|(_, c)| *c == ',' || c.is_whitespace()) {
                chars.next();
            }
            match chars.peek() {
                Some((i, '}')) => {
                    end = Some(*i);
                    break;
                }
                None => break,
                _ => {}
            }
            let mut key = String::new();
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {key} has no quoted value"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => return Err("unterminated escape".into()),
                    },
                    Some((_, '"')) => break,
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("label {key} value is not terminated")),
                }
            }
            labels.insert(key.trim().to_string(), value);
        }
        let end = end.ok_or("labels are not closed")?;
        rest = &inner[end + 1..];
    }
    let value_text = rest.split_whitespace().next().ok_or("no value")?;
    let value = parse_number(value_text).ok_or_else(|| format!("value {value_text:?} is not a number"))?;
    Ok(Sample { name, labels, value })
}

fn parse_number(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// Scrapes `/metrics` once.
pub fn scrape(port: u16) -> Result<Scrape, String> {
    let response = http::get(port, "/metrics", &[]).map_err(|e| format!("GET /metrics: {e}"))?;
    if response.status != 200 {
        return Err(format!("GET /metrics answered {}", response.status));
    }
    Scrape::parse(&response.text()).map_err(|e| format!("GET /metrics is not the text format: {e}"))
}

/// The contract's checks after the tier's traffic; `items` says whether the items routes served
/// requests (db=postgres).
pub fn problems(port: u16, items: bool) -> Vec<String> {
    // A counted burst on a route no other check uses at the same time.
    const BURST: usize = 3;
    let before = match scrape(port) {
        Ok(scrape) => scrape,
        Err(e) => return vec![e],
    };
    let probe = "/metrics-probe/does-not-exist";
    for _ in 0..BURST {
        if let Err(e) = http::get(port, probe, &[]) {
            return vec![format!("GET {probe}: {e}")];
        }
    }
    let after = match scrape(port) {
        Ok(scrape) => scrape,
        Err(e) => return vec![e],
    };
    let mut found = shape(&after);
    let miss = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    #[allow(clippy::cast_precision_loss)]
    let burst = BURST as f64;
    for (name, what) in [(COUNTER.to_string(), "counter"), (format!("{HISTOGRAM}_count"), "histogram count")] {
        let delta = after.value(&name, &miss) - before.value(&name, &miss);
        if (delta - burst).abs() > f64::EPSILON {
            found.push(format!(
                "{BURST} requests to {probe} (404) moved the {what} {name}{{method=\"GET\",route=\"unmatched\",status=\"404\"}} by {delta}, not {BURST}"
            ));
        }
    }
    let mut expected = vec![
        ("GET", "/health", "200"),
        ("GET", "/ready", "200"),
        ("GET", "/metrics", "200"),
        ("GET", "unmatched", "404"),
        ("DELETE", "unmatched", "405"),
    ];
    if items {
        expected.extend([
            ("POST", "/items", "201"),
            ("GET", "/items", "200"),
            ("GET", "/items/{id}", "200"),
            ("GET", "/items/{id}", "404"),
            ("POST", "/items", "422"),
        ]);
    }
    for (method, route, status) in expected {
        let labels = [("method", method), ("route", route), ("status", status)];
        if after.value(COUNTER, &labels) < 1.0 {
            found.push(format!(
                "no {COUNTER}{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} sample ≥ 1 after such requests"
            ));
        }
        if after.value(&format!("{HISTOGRAM}_count"), &labels) < 1.0 {
            found.push(format!(
                "no {HISTOGRAM}_count{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} sample ≥ 1 after such requests"
            ));
        }
    }
    found
}

/// Names, types, label sets and buckets of the two series, and the process metrics.
pub fn shape(scrape: &Scrape) -> Vec<String> {
    let mut found = Vec::new();
    for (family, kind) in [(COUNTER, "counter"), (HISTOGRAM, "histogram")] {
        // OpenMetrics names the counter family without `_total`; either form is fine.
        let declared = scrape.types.get(family).or_else(|| scrape.types.get(family.trim_end_matches("_total")));
        if declared.map(String::as_str) != Some(kind) {
            found.push(format!("/metrics: `# TYPE {family} {kind}` expected, found {declared:?}"));
        }
    }
    let ours = |s: &&Sample| {
        s.name == COUNTER
            || s.name.strip_prefix(HISTOGRAM).is_some_and(|rest| ["_bucket", "_sum", "_count"].contains(&rest))
    };
    let samples: Vec<&Sample> = scrape.samples.iter().filter(ours).collect();
    if !samples.iter().any(|s| s.name == COUNTER) {
        found.push(format!("/metrics has no {COUNTER} sample"));
    }
    if !samples.iter().any(|s| s.name == format!("{HISTOGRAM}_bucket")) {
        found.push(format!("/metrics has no {HISTOGRAM}_bucket sample"));
    }
    let mut bad = Vec::new();
    for sample in &samples {
        let mut keys: Vec<&str> = sample.labels.keys().map(String::as_str).filter(|k| *k != "le").collect();
        keys.sort_unstable();
        if keys != ["method", "route", "status"] {
            bad.push(format!("{} has labels {keys:?}, not exactly method, route, status", sample.name));
            continue;
        }
        let (method, route, status) = (sample.label("method"), sample.label("route"), sample.label("status"));
        if method.is_empty() || method != method.to_ascii_uppercase() {
            bad.push(format!("{} has method {method:?}, not an upper-case method", sample.name));
        }
        if !(status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit())) {
            bad.push(format!("{} has status {status:?}, not a numeric status code", sample.name));
        }
        let concrete = route.split('/').any(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()));
        if route != "unmatched" && (!route.starts_with('/') || concrete || route.contains(':')) {
            bad.push(format!(
                "{} has route {route:?}: a route is the template in brace style (`/items/{{id}}`) or `unmatched`",
                sample.name
            ));
        }
        if route.contains("does-not-exist") || route.contains("no/such") {
            bad.push(format!("{} has route {route:?}: a request no route handles is `unmatched`", sample.name));
        }
    }
    bad.sort();
    bad.dedup();
    found.extend(bad.into_iter().take(10).map(|b| format!("/metrics: {b}")));
    found.extend(buckets(scrape));
    if !scrape.samples.iter().any(|s| s.name.starts_with("process_")) {
        found.push("/metrics has no process_* series (the runtime's own process metrics)".into());
    }
    found
}

/// A label set without `le`, in name order.
type Labels = Vec<(String, String)>;

/// Two bucket bounds are the same (+Inf included).
fn same(a: f64, b: f64) -> bool {
    (a.is_infinite() && b.is_infinite() && a.signum() == b.signum()) || (a - b).abs() < 1e-9
}

/// Every histogram series has exactly the contract's buckets, cumulative, +Inf equal to `_count`.
fn buckets(scrape: &Scrape) -> Vec<String> {
    let bucket_name = format!("{HISTOGRAM}_bucket");
    let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for sample in scrape.named(&bucket_name) {
        let key: Vec<(String, String)> =
            sample.labels.iter().filter(|(k, _)| *k != "le").map(|(k, v)| (k.clone(), v.clone())).collect();
        let Some(le) = sample.labels.get("le").and_then(|le| parse_number(le)) else {
            return vec![format!("/metrics: {bucket_name} sample without a numeric `le`: {sample:?}")];
        };
        series.entry(key).or_default().push((le, sample.value));
    }
    let expected: Vec<f64> = BUCKETS.iter().copied().chain([f64::INFINITY]).collect();
    let mut found = Vec::new();
    for (key, mut bounds) in series {
        let shown = key.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect::<Vec<_>>().join(",");
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let les: Vec<f64> = bounds.iter().map(|(le, _)| *le).collect();
        if les.len() != expected.len() || les.iter().zip(&expected).any(|(a, b)| !same(*a, *b)) {
            found.push(format!(
                "/metrics: {bucket_name}{{{shown}}} has buckets {les:?}, the contract's are {expected:?}"
            ));
            continue;
        }
        if bounds.windows(2).any(|w| w[1].1 < w[0].1) {
            found.push(format!("/metrics: {bucket_name}{{{shown}}} is not cumulative"));
        }
        let labels: Vec<(&str, &str)> = key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let count = scrape.value(&format!("{HISTOGRAM}_count"), &labels);
        let infinite = bounds.last().map_or(0.0, |b| b.1);
        if (count - infinite).abs() > f64::EPSILON {
            found.push(format!("/metrics: {HISTOGRAM}{{{shown}}} has +Inf bucket {infinite} but _count {count}"));
        }
    }
    found.truncate(10);
    found
}

#[test]
fn the_text_format_is_parsed_with_escapes() {
    let text = "# HELP x A counter\n# TYPE http_requests_total counter\nhttp_requests_total{method=\"GET\",route=\"/items/{id}\",status=\"200\"} 3\nweird{a=\"q\\\"uo,te}\",b=\"\\\\\"} 1.5e3 1700000000\nup 1\n";
    let scrape = Scrape::parse(text).unwrap();
    assert_eq!(scrape.types["http_requests_total"], "counter");
    assert!(same(scrape.value(COUNTER, &[("method", "GET"), ("route", "/items/{id}"), ("status", "200")]), 3.0));
    assert!(same(scrape.value("weird", &[("a", "q\"uo,te}"), ("b", "\\")]), 1500.0));
    assert!(same(scrape.value("up", &[]), 1.0));
    assert!(Scrape::parse("broken{a=\"x} 1\n").is_err());
}

#[test]
fn the_contract_shape_passes_and_deviations_are_named() {
    let mut text = String::from(
        "# TYPE http_requests_total counter\n# TYPE http_request_duration_seconds histogram\nprocess_resident_memory_bytes 1e6\n",
    );
    let labels = "method=\"GET\",route=\"/items/{id}\",status=\"200\"";
    text.push_str(&format!("http_requests_total{{{labels}}} 2\n"));
    for le in ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5", "10", "+Inf"] {
        text.push_str(&format!("http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} 2\n"));
    }
    text.push_str(&format!(
        "http_request_duration_seconds_sum{{{labels}}} 0.01\nhttp_request_duration_seconds_count{{{labels}}} 2\n"
    ));
    assert_eq!(shape(&Scrape::parse(&text).unwrap()), Vec::<String>::new());

    let wrong = text.replace("route=\"/items/{id}\"", "route=\"/items/42\"").replace("le=\"10\"", "le=\"30\"");
    let found = shape(&Scrape::parse(&wrong).unwrap());
    assert!(found.iter().any(|p| p.contains("\"/items/42\"")), "{found:#?}");
    assert!(found.iter().any(|p| p.contains("has buckets")), "{found:#?}");
    let extra = text.replace("status=\"200\"", "status=\"200\",path=\"/x\"").replace("process_", "other_");
    let found = shape(&Scrape::parse(&extra).unwrap());
    assert!(found.iter().any(|p| p.contains("not exactly method, route, status")), "{found:#?}");
    assert!(found.iter().any(|p| p.contains("process_")), "{found:#?}");
}

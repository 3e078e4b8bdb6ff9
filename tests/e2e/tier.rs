//! The whole end-to-end run for one stack, in the order a user meets it: the validators over the
//! full option matrix (`Part::Static`), then for each database choice a fresh project with the
//! default options that is checked for its configuration contract, built, linted and tested with
//! its own Makefile, and run live (`Part::Service`), then the same with a worker (`Part::Worker`).
//! Builds and live runs take turns (a process-wide lock) so they do not fight for the cores and
//! the measured start times mean something; the validators, which measure nothing, have a turn of
//! their own and may run beside them (`--test-threads 2`), filling the time a live run spends
//! waiting. Every problem is collected and the test fails once, at the end, listing them all under
//! the step and combination they came from.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use crate::matrix::Matrix;
use crate::project::{self, Options};
use crate::selection::Selection;
use crate::stack::Stack;
use crate::toolbox::{self, Toolbox};
use crate::{environment, live, makefile, report, validators, wiring, worker};

/// The variable naming the cache directory (default: see [`cache_dir`]).
pub const CACHE_VARIABLE: &str = "DOZEN_E2E_CACHE";

/// Held by the stack whose projects are being built and run.
static LIVE: Mutex<()> = Mutex::new(());

/// Held by the stack whose matrix the validators are judging.
static STATIC: Mutex<()> = Mutex::new(());

/// Which projects of a stack a test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The validators over the option matrix.
    Static,
    /// The web process with db=postgres and none: built, tested and run live.
    Service,
    /// The worker process type (issue 16): the same build with worker=redis, run against Redis.
    Worker,
}

/// Runs `part` of the tier for the stack called `name`, or says why it is skipped.
pub fn run(name: &str, part: Part) {
    let stack = Stack::named(name);
    // Only a run whose DOZEN_E2E selects this stack gets here (the others are ignored at build
    // time); a run that got here anyway must fail loudly rather than pass without testing.
    let Some(selection) = Selection::from_env() else {
        panic!(
            "[{name}] the end-to-end tier needs {}: set it to all, a language or lang-stack",
            crate::selection::VARIABLE
        );
    };
    let problems = selection.problems();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        selection.includes(&stack),
        "[{name}] not selected by {}={:?}; rebuild the test binary (cargo test --test e2e) after changing it",
        crate::selection::VARIABLE,
        std::env::var(crate::selection::VARIABLE).unwrap_or_default()
    );
    let turn = if part == Part::Static { &STATIC } else { &LIVE };
    let _turn = turn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let toolbox = Toolbox::locate();
    if let Err(e) = toolbox.require(&toolbox::REQUIRED) {
        panic!("[{name}] {e}");
    }
    let mut run = Run { stack, found: Vec::new(), started: Instant::now() };
    match part {
        Part::Static => run.static_checks(&toolbox),
        Part::Service => {
            for db in ["postgres", "none"] {
                run.project(Options::defaults(db), &toolbox);
            }
        }
        Part::Worker => {
            for db in ["postgres", "none"] {
                run.project(Options { worker: "redis", ..Options::defaults(db) }, &toolbox);
            }
        }
    }
    run.finish();
}

/// The state of one stack's run.
struct Run {
    stack: Stack,
    found: Vec<String>,
    started: Instant,
}

impl Run {
    fn say(&self, text: &str) {
        eprintln!("[{} +{:>4}s] {text}", self.stack.name(), self.started.elapsed().as_secs());
    }

    fn problems(&mut self, step: &str, problems: Vec<String>) {
        self.found.extend(problems.into_iter().map(|p| format!("{step}: {p}")));
    }

    fn static_checks(&mut self, toolbox: &Toolbox) {
        let began = Instant::now();
        match Matrix::generate(&self.stack) {
            Ok(matrix) => {
                self.say(&format!(
                    "rendered {} combinations in {:.1}s",
                    matrix.projects().len(),
                    began.elapsed().as_secs_f64()
                ));
                let began = Instant::now();
                let mut found = validators::problems(&matrix, toolbox);
                found.extend(wiring::problems(&matrix, toolbox));
                self.say(&format!("validators: {} problems in {:.1}s", found.len(), began.elapsed().as_secs_f64()));
                self.problems("static", found);
            }
            Err(failed) => self.problems("dozen new", failed),
        }
    }

    fn project(&mut self, options: Options, toolbox: &Toolbox) {
        let label = match options.worker {
            "none" => format!("db={}", options.db),
            worker => format!("db={} worker={worker}", options.db),
        };
        let parent = match tempfile::Builder::new()
            .prefix(&format!("dozen-e2e-{}-{}.", self.stack.name(), options.db))
            .tempdir()
        {
            Ok(parent) => parent,
            Err(e) => return self.problems(&label, vec![format!("cannot create a temporary directory: {e}")]),
        };
        let dir = match project::generate(&self.stack, &options, parent.path()) {
            Ok(dir) => dir,
            Err(e) => return self.problems(&format!("{label} dozen new"), vec![e]),
        };
        self.problems(&format!("{label} environment"), environment::problems(&dir, &self.stack, &options));
        let cache = cache_dir();
        let test_output = match makefile::run_targets(&dir, &self.stack, &cache) {
            Ok(ran) => {
                let shown: Vec<String> =
                    ran.timings.iter().map(|(t, d)| format!("{t} {:.0}s", d.as_secs_f64())).collect();
                self.say(&format!("{label}: make {}", shown.join(", ")));
                if options.db == "postgres" && !ran.test_output.contains("DATABASE_URL") {
                    self.problems(
                        &format!("{label} make test"),
                        vec![format!(
                            "without DATABASE_URL, `make test` must say that the PostgreSQL integration test is skipped \
                             (no line names DATABASE_URL); it printed:\n{}",
                            crate::command::tail(&ran.test_output, 15)
                        )],
                    );
                }
                ran.test_output
            }
            Err(e) => return self.problems(&format!("{label} make"), vec![e]),
        };
        let began = Instant::now();
        if options.worker != "none" {
            let found = worker::check(&dir, &options, &test_output);
            self.say(&format!(
                "{label}: worker checks took {:.0}s, {} problems",
                began.elapsed().as_secs_f64(),
                found.len()
            ));
            return self.problems(&format!("{label} worker"), found);
        }
        let (found, measured) = live::check(&dir, &options, toolbox);
        self.say(&format!("{label}: live checks took {:.0}s", began.elapsed().as_secs_f64()));
        if let Some(measured) = measured {
            self.say(&format!(
                "{label}: ready {} ms after spawn, idle RSS {:.1} MiB",
                measured.start_to_ready.as_millis(),
                measured.idle_rss_mib
            ));
            if let Some((route, load)) = measured.load {
                self.say(&format!(
                    "{label}: wrk GET {route}: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms",
                    load.requests_per_sec, load.p50_ms, load.p99_ms
                ));
            }
            if let Err(e) = report::record(&cache, &self.stack, options.db, &measured, &dir) {
                self.problems(&format!("{label} report"), vec![e]);
            }
        }
        self.say(&format!("{label}: live checks: {} problems", found.len()));
        self.problems(&format!("{label} live"), found);
    }

    fn finish(self) {
        self.say(&format!("done: {} problems", self.found.len()));
        assert!(
            self.found.is_empty(),
            "[{}] {} problems:\n\n{}",
            self.stack.name(),
            self.found.len(),
            self.found.join("\n\n")
        );
    }
}

/// Where builds share their caches and the report is written: `DOZEN_E2E_CACHE`, else
/// `dozen/e2e` in the user's cache directory (`$XDG_CACHE_HOME`, else `~/.cache`), so that a fresh
/// clone on the same machine reuses the builds, else the repository's `target/e2e-cache`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_VARIABLE) {
        return PathBuf::from(dir);
    }
    user_cache().map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-cache"), |d| d.join("e2e"))
}

/// `dozen` in the user's cache directory, when there is a home to put it in.
pub fn user_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()).map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|home| PathBuf::from(home).join(".cache"))
    })?;
    Some(base.join("dozen"))
}

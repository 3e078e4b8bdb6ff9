//! The template engine: one Tera instance per run, holding the `.tera` files of the pack that
//! other templates use (`{% include "partials/x.tera" %}`, `extends`, blocks, components) under
//! their pack-relative paths, with dozen's case filters registered in one place. Every other
//! template is checked when the pack is loaded, dropped, and parsed again only when rendered, so
//! memory does not grow by a parsed template per file. Engine errors become `file:line` problems
//! here.
//!
//! Templates come from packs, which may be hostile, and Tera cannot be interrupted. So every
//! render runs on a worker thread that writes into a bounded buffer, while the caller waits with a
//! deadline and watches the process's resident memory: output past a per-file or total limit,
//! render time past a per-file or total limit, or memory past a ceiling ends the render with an
//! error naming the file. Rendering happens before anything is written, so the run then stops
//! cleanly; the abandoned worker dies with the process, and every later render of the process is
//! refused at once so nothing piles up behind it.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use tera::{Context, Kwargs, State, Tera};

use crate::error::{Error, Problem, Result};
use crate::name;
use crate::pack::{Contents, Pack};

/// Suffix of files that are rendered; it is dropped from the output name.
pub const TEMPLATE_SUFFIX: &str = ".tera";

/// How often a waiting caller looks at the clock and the memory.
const POLL: Duration = Duration::from_millis(5);

/// How `condition` wraps an expression; such a string holds no loop of its own.
const CONDITION_OPEN: &str = "{% if ";

/// The template that evaluates a condition to `1` or nothing.
fn wrap_condition(expression: &str) -> String {
    format!("{CONDITION_OPEN}{expression} %}}1{{% endif %}}")
}

/// Every expression of a pack, as the string [`Renderer::render_str`] is given for it: the
/// `when` of questions, choices, reserved rules, layers, hooks, checks and `[data]` items
/// (wrapped as conditions), templated defaults, the message and templated file-name segments.
fn expressions(pack: &Pack) -> Vec<String> {
    fn data_conditions(value: &toml::Value, out: &mut Vec<String>) {
        match value {
            toml::Value::Table(table) => table.values().for_each(|v| data_conditions(v, out)),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item
                        && let Some(toml::Value::String(when)) = t.get("when")
                    {
                        out.push(wrap_condition(when));
                    }
                    data_conditions(item, out);
                }
            }
            _ => {}
        }
    }
    let manifest = &pack.manifest;
    let mut conditions: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for q in &manifest.questions {
        conditions.extend(q.when.as_deref());
        conditions.extend(q.choices.iter().filter_map(|c| c.when()));
        conditions.extend(q.reserved.iter().filter_map(|r| r.when.as_deref()));
        if let Some(toml::Value::String(default)) = &q.default
            && (default.contains("{{") || default.contains("{%"))
        {
            out.push(default.clone());
        }
    }
    conditions.extend(manifest.layers.iter().filter_map(|l| l.when.as_deref()));
    conditions.extend(manifest.hooks.iter().chain(&manifest.checks).filter_map(|c| c.when.as_deref()));
    out.extend(conditions.into_iter().map(wrap_condition));
    data_conditions(&toml::Value::Table(manifest.data.clone()), &mut out);
    out.extend(manifest.message.as_ref().map(|m| m.template.clone()));
    for path in pack.files.keys() {
        out.extend(path.split('/').filter(|s| s.contains("{{") || s.contains("{%")).map(str::to_owned));
    }
    out
}

/// Whether `template` is exactly a wrapped condition: one `if` block and nothing else.
fn is_condition(template: &str) -> bool {
    template.starts_with(CONDITION_OPEN) && template.ends_with(" %}1{% endif %}") && template.matches("{%").count() == 2
}

/// What the renders of one engine may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes one rendered file (or expression) may have.
    pub file_bytes: usize,
    /// Most bytes all renders may have together.
    pub total_bytes: usize,
    /// Longest one render may take.
    pub file_time: Duration,
    /// Longest all renders may take together.
    pub total_time: Duration,
    /// Resident memory of the whole process past which a running render is stopped.
    pub resident_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            file_bytes: 16 << 20,
            total_bytes: 256 << 20,
            file_time: Duration::from_secs(5),
            total_time: Duration::from_secs(60),
            resident_bytes: 512 << 20,
        }
    }
}

/// A Tera instance loaded with a pack's templates, and what its renders have used so far.
pub struct Renderer {
    tera: Arc<Tera>,
    limits: Limits,
    used_bytes: AtomicUsize,
    used_micros: AtomicU64,
    /// Set when a render was stopped while running: its worker may still be going, so every
    /// later render of this engine is refused with this message.
    tripped: OnceLock<String>,
    /// Templates no other template uses, sorted by pack-relative path: checked, not kept parsed.
    leaves: Leaves,
    /// Every template in one instance, made on first use by [`Renderer::template_variables`].
    full: OnceLock<Tera>,
    /// The pack's expressions (conditions, templated defaults, file-name segments, the message),
    /// parsed once when the engine is made and held under their own text as the name; any other
    /// string is parsed when rendered.
    compiled: HashSet<String>,
    /// The thread renders that may run away are run on (see [`Renderer::on_worker`]).
    worker: OnceLock<std::result::Result<mpsc::Sender<Job>, String>>,
}

/// One render, run on the render thread.
type Job = Box<dyn FnOnce() + Send>;

impl Renderer {
    /// An engine without pack templates, for expressions only.
    pub fn bare() -> Renderer {
        Renderer::with(engine())
    }

    fn with(tera: Tera) -> Renderer {
        Renderer {
            tera: Arc::new(tera),
            limits: Limits::default(),
            used_bytes: AtomicUsize::new(0),
            used_micros: AtomicU64::new(0),
            tripped: OnceLock::new(),
            leaves: Vec::new(),
            full: OnceLock::new(),
            compiled: HashSet::new(),
            worker: OnceLock::new(),
        }
    }

    /// An engine for `pack` made from `tera`, with the pack's expressions compiled into it.
    fn compiled(mut tera: Tera, pack: &Pack, leaves: Leaves) -> Renderer {
        let mut compiled: HashSet<String> = expressions(pack).into_iter().collect();
        // Tera checks every template it holds on each add: one batch, and one at a time only
        // when some expression does not parse (it then stays a string, and rendering it reports
        // the error as before).
        if tera.add_raw_templates(compiled.iter().map(|s| (s, s))).is_err() {
            compiled.retain(|source| tera.add_raw_template(source, source).is_ok());
        }
        let mut renderer = Renderer::with(tera);
        renderer.leaves = leaves;
        renderer.compiled = compiled;
        renderer
    }

    /// The same engine with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Renderer {
        self.limits = limits;
        self
    }

    /// Parses every `.tera` file of the pack; all syntax errors are reported at once.
    pub fn for_pack(pack: &Pack) -> Result<Renderer> {
        let mut tera = engine();
        let templates: Vec<(&str, &str)> = pack
            .files
            .iter()
            .filter(|(path, _)| path.ends_with(TEMPLATE_SUFFIX))
            .map(|(path, file)| {
                let text = std::str::from_utf8(file.contents.bytes())
                    .map_err(|_| Problem::new(path.as_str(), "template is not UTF-8 text"));
                (path.as_str(), text)
            })
            .map(|(path, text)| text.map(|t| (path, t)))
            .collect::<std::result::Result<_, _>>()
            .map_err(|p| Error::Pack { pack: pack.id().source.clone(), problems: vec![p] })?;
        if templates.len() > KEEP_ALL_PARSED
            && let Some(shared) = shared_templates(&templates)
            && let Some((tera, leaves)) = keep_shared_only(pack, &templates, &shared)
        {
            return Ok(Renderer::compiled(tera, pack, leaves));
        }
        if tera.add_raw_templates(templates.iter().copied()).is_ok() {
            return Ok(Renderer::compiled(tera, pack, Vec::new()));
        }
        // Slow path, only for broken packs: parse each template alone to report every problem.
        let mut problems = Vec::new();
        for (path, text) in &templates {
            let mut alone = engine();
            if let Err(err) = alone.add_raw_template(path, text) {
                let problem = problem_of(&err, path);
                if !problem.message.contains("Unknown template") {
                    problems.push(problem.hint("fix the Tera syntax at that line"));
                }
            }
        }
        if problems.is_empty()
            && let Err(err) = tera.add_raw_templates(templates.iter().copied())
        {
            problems.push(problem_of(&err, "templates").hint("check that every included template exists in the pack"));
        }
        Err(Error::Pack { pack: pack.id().source.clone(), problems })
    }

    /// Starts counting the totals of a new run afresh (`pack test` renders many projects with one
    /// engine); a tripped engine stays tripped.
    pub fn start_run(&self) {
        self.used_bytes.store(0, Ordering::SeqCst);
        self.used_micros.store(0, Ordering::SeqCst);
    }

    /// Renders a pack template by its pack-relative path.
    pub fn render_file(&self, path: &str, context: &Context) -> Result<String> {
        if let Ok(at) = self.leaves.binary_search_by(|(leaf, _)| (**leaf).cmp(path)) {
            let contents = self.leaves[at].1.clone();
            // As for `render_str`: without a `{% %}` block a template cannot loop or grow, so it
            // renders on this thread (no worker per file).
            let inline = !contents.bytes().windows(2).any(|w| w == b"{%");
            return self
                .bounded(path, context, inline, move |tera, context, out| {
                    let text = std::str::from_utf8(contents.bytes()).expect("checked as UTF-8 when loaded");
                    tera.render_str_to(text, context, false, out)
                })
                .map_err(|err| err.into_error(path));
        }
        let name = path.to_owned();
        self.bounded(path, context, false, move |tera, context, out| tera.render_to(&name, context, out))
            .map_err(|err| err.into_error(path))
    }

    /// Renders a one-off template string; `origin` names it in errors (e.g. `pack.toml: default of x`).
    pub fn render_str(&self, template: &str, context: &Context, origin: &str) -> Result<String> {
        // Without a `{% %}` block (no loop, no `set`) a string cannot grow or run away: it is
        // rendered on this thread, which keeps conditions and defaults cheap (they are evaluated
        // thousands of times by `pack test`).
        let inline = !template.contains("{%") || is_condition(template);
        let template = template.to_owned();
        let named = self.compiled.contains(&template);
        self.bounded(origin, context, inline, move |tera, context, out| {
            if named {
                tera.render_to(&template, context, out)
            } else {
                tera.render_str_to(&template, context, false, out)
            }
        })
        .map_err(|err| {
            let mut error = err.into_error(origin);
            if let Error::Render { problem, .. } = &mut error {
                origin.clone_into(&mut problem.file);
            }
            error
        })
    }

    /// Runs one render on a worker thread within the limits (see the module docs).
    fn bounded(
        &self,
        name: &str,
        context: &Context,
        inline: bool,
        render: impl FnOnce(&Tera, &Context, &mut Bounded) -> tera::TeraResult<()> + Send + 'static,
    ) -> std::result::Result<String, Failure> {
        if let Some(reason) = self.tripped.get() {
            return Err(Failure::Limit(format!("not rendered: {reason}")));
        }
        if inline {
            let limit = self.limits.file_bytes;
            let mut out =
                Bounded { bytes: Vec::new(), limit, exceeded: false, cancel: Arc::new(AtomicBool::new(false)) };
            let result = render(&self.tera, context, &mut out);
            if out.exceeded {
                return Err(Failure::Limit(format!("its output is larger than {}", size(limit))));
            }
            result.map_err(Failure::Engine)?;
            let total = self.used_bytes.fetch_add(out.bytes.len(), Ordering::SeqCst).saturating_add(out.bytes.len());
            if total > self.limits.total_bytes {
                return Err(Failure::Limit(format!(
                    "with it the rendered output is larger than {} in all",
                    size(self.limits.total_bytes)
                )));
            }
            return Ok(
                String::from_utf8(out.bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            );
        }
        let (tera, context) = (Arc::clone(&self.tera), context.clone());
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&cancel);
        let (send, receive) = mpsc::channel();
        let (limits, started) = (self.limits, Instant::now());
        let job: Job = Box::new(move || {
            let mut out = Bounded { bytes: Vec::new(), limit: limits.file_bytes, exceeded: false, cancel: stop };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(&tera, &context, &mut out)));
            // The caller may have given up waiting; nobody to tell then.
            let _ = send.send((result, out.bytes, out.exceeded));
        });
        self.on_worker(job)?;
        let (result, bytes, exceeded) = loop {
            match receive.recv_timeout(POLL) {
                Ok(done) => break done,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Failure::Limit("the render stopped without a result".into()));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let reason = if started.elapsed() > limits.file_time {
                        Some(format!("rendering took more than {:?}", limits.file_time))
                    } else {
                        resident_bytes().filter(|&b| b > limits.resident_bytes).map(|b| {
                            format!(
                                "rendering grew dozen to {} MiB of memory, more than {} MiB",
                                b >> 20,
                                limits.resident_bytes >> 20
                            )
                        })
                    };
                    if let Some(reason) = reason {
                        cancel.store(true, Ordering::SeqCst);
                        let _ = self.tripped.set(format!("an earlier template exceeded a limit ({name}: {reason})"));
                        return Err(Failure::Limit(reason));
                    }
                }
            }
        };
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let total_micros = self.used_micros.fetch_add(micros, Ordering::SeqCst).saturating_add(micros);
        if exceeded {
            return Err(Failure::Limit(format!("its output is larger than {}", size(limits.file_bytes))));
        }
        match result {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(Failure::Engine(err)),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                return Err(Failure::Limit(format!("the template engine failed: {what}")));
            }
        }
        let total = self.used_bytes.fetch_add(bytes.len(), Ordering::SeqCst).saturating_add(bytes.len());
        if total > limits.total_bytes {
            return Err(Failure::Limit(format!(
                "with it the rendered output is larger than {} in all",
                size(limits.total_bytes)
            )));
        }
        if total_micros > u64::try_from(limits.total_time.as_micros()).unwrap_or(u64::MAX) {
            return Err(Failure::Limit(format!("with it rendering took more than {:?} in all", limits.total_time)));
        }
        Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Hands `job` to this engine's render thread, started on first use and kept for the next
    /// renders (a thread per render cost more than rendering the built-in pack). A render that
    /// overruns trips the engine, so a worker stuck in one is never given another.
    fn on_worker(&self, job: Job) -> std::result::Result<(), Failure> {
        let worker = self.worker.get_or_init(|| {
            let (send, receive) = mpsc::channel::<Job>();
            let started = std::thread::Builder::new().name("render".into()).spawn(move || {
                for job in receive {
                    job();
                }
            });
            started.map(|_| send).map_err(|err| err.to_string())
        });
        match worker {
            Ok(send) => send.send(job).map_err(|_| Failure::Limit("the render thread is gone".into())),
            Err(err) => Err(Failure::Limit(format!("no thread to render it on: {err}"))),
        }
    }

    /// Evaluates a `when` condition.
    pub fn condition(&self, expression: &str, context: &Context, origin: &str) -> Result<bool> {
        let out = self.render_str(&wrap_condition(expression), context, origin)?;
        Ok(out == "1")
    }

    /// The top-level variables a pack template uses (best effort), for `pack check`.
    pub fn template_variables(&self, path: &str) -> Vec<String> {
        let tera = if self.leaves.is_empty() {
            &*self.tera
        } else {
            self.full.get_or_init(|| {
                let mut full = (*self.tera).clone();
                let leaves = self.leaves.iter().filter_map(|(p, c)| Some((&**p, std::str::from_utf8(c.bytes()).ok()?)));
                // Checked when loaded; on an error the variables are unknown, as for any broken template.
                let _ = full.add_raw_templates(leaves);
                full
            })
        };
        tera.get_template_variables(path).map(|vars| vars.into_iter().map(str::to_owned).collect()).unwrap_or_default()
    }

    /// The top-level variables a template string uses (best effort), for `pack check`.
    pub fn variables_of(&self, template: &str) -> std::result::Result<Vec<String>, String> {
        let mut scratch = engine();
        scratch.add_raw_template("expr", template).map_err(|e| e.to_string())?;
        let vars = scratch.get_template_variables("expr").map_err(|e| e.to_string())?;
        Ok(vars.into_iter().map(str::to_owned).collect())
    }
}

/// Why a bounded render failed.
enum Failure {
    /// Tera's own error (syntax, undefined variable…).
    Engine(tera::Error),
    /// A limit was reached.
    Limit(String),
}

impl Failure {
    fn into_error(self, name: &str) -> Error {
        match self {
            Failure::Engine(err) => render_error(&err, name),
            Failure::Limit(reason) => Error::Render {
                problem: Problem::new(name, reason.clone()).hint(
                    "a template must not grow without bound or loop for long; check its loops, \
                     `set`/`~` concatenations and recursive components",
                ),
                message: reason,
            },
        }
    }
}

/// `16 MiB`, `300 bytes`.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{bytes} bytes") }
}

/// Output of one render: refuses to grow past `limit`, and fails every write once the caller
/// gave up on the render.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
    cancel: Arc<AtomicBool>,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("render cancelled"));
        }
        if self.bytes.len() + buf.len() > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("output limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's resident memory, where the system tells it (`/proc/self/status` on Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Up to this many templates, all stay parsed: they take under a MiB, and parsing a template a
/// second time when it is rendered costs more than that saves.
const KEEP_ALL_PARSED: usize = 256;

/// Templates kept as bytes, by pack-relative path.
type Leaves = Vec<(Box<str>, Contents)>;

/// The name leaves are checked under.
const LEAF_CHECK: &str = "__dozen_leaf_check";

/// The templates that must stay parsed in the engine: those named by an `include` or `extends`
/// of any template, and those using `extends`, blocks or components. `None` when a name cannot be
/// read reliably from the text (an escaped string): then every template stays in the engine.
fn shared_templates<'a>(templates: &[(&'a str, &'a str)]) -> Option<HashSet<&'a str>> {
    let mut named = HashSet::new();
    let mut shared = HashSet::new();
    for &(path, text) in templates {
        for tag in text.split("{%").skip(1) {
            let tag = tag.split("%}").next().unwrap_or(tag);
            let tag = tag.trim_start_matches('-').trim_start();
            let word_end = tag.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tag.len());
            let (word, rest) = tag.split_at(word_end);
            match word {
                "include" | "extends" => {
                    let rest = rest.trim_start();
                    let quote = rest.chars().next()?;
                    if !matches!(quote, '"' | '\'' | '`') {
                        return None;
                    }
                    let name = rest[1..].split(quote).next()?;
                    if name.contains('\\') {
                        return None;
                    }
                    named.insert(name);
                    if word == "extends" {
                        shared.insert(path);
                    }
                }
                "block" | "endblock" | "component" | "endcomponent" => {
                    shared.insert(path);
                }
                _ => {}
            }
        }
    }
    shared.extend(templates.iter().map(|(path, _)| *path).filter(|path| named.contains(path)));
    Some(shared)
}

/// An engine holding the `shared` templates, and every other template checked alone (against the
/// shared ones when it includes any) and kept as bytes only. `None` when a template does not
/// load, for the caller to collect every problem the usual way.
fn keep_shared_only(pack: &Pack, templates: &[(&str, &str)], shared: &HashSet<&str>) -> Option<(Tera, Leaves)> {
    let mut tera = engine();
    tera.add_raw_templates(templates.iter().filter(|(path, _)| shared.contains(path)).copied()).ok()?;
    let mut leaves: Leaves = Vec::with_capacity(templates.len() - shared.len());
    let mut alone = engine();
    let mut with_shared: Option<Tera> = None;
    for &(path, text) in templates.iter().filter(|(path, _)| !shared.contains(path)) {
        // One name for every check, so the scratch engine never holds more than one leaf.
        if alone.add_raw_template(LEAF_CHECK, text).is_err() {
            let with_shared = with_shared.get_or_insert_with(|| tera.clone());
            with_shared.add_raw_template(LEAF_CHECK, text).ok()?;
        }
        leaves.push((path.into(), pack.files[path].contents.clone()));
    }
    leaves.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Some((tera, leaves))
}

/// A Tera instance with dozen's settings and filters.
fn engine() -> Tera {
    let mut tera = Tera::default();
    tera.autoescape_on(Vec::<&str>::new());
    register_filters(&mut tera);
    tera
}

/// dozen's case filters, registered in this one place.
fn register_filters(tera: &mut Tera) {
    tera.register_filter("slug", |s: &str, _: Kwargs, _: &State| name::slug(s));
    tera.register_filter("kebab", |s: &str, _: Kwargs, _: &State| name::slug(s));
    tera.register_filter("snake", |s: &str, _: Kwargs, _: &State| name::snake(s));
    tera.register_filter("pascal", |s: &str, _: Kwargs, _: &State| name::pascal(s));
    tera.register_filter("camel", |s: &str, _: Kwargs, _: &State| name::camel(s));
    // Answers escaped for the file they land in: a quoted string that is valid JSON, a TOML basic
    // string and a YAML double-quoted scalar alike; a single-quoted POSIX shell word.
    tera.register_filter("json_string", |s: &str, _: Kwargs, _: &State| json_string(s));
    tera.register_filter("shell_quote", |s: &str, _: Kwargs, _: &State| shell_quote(s));
}

/// `s` as a double-quoted JSON string (also a valid TOML basic string and YAML scalar).
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// `s` as one single-quoted POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn problem_of(err: &tera::Error, fallback_file: &str) -> Problem {
    match err.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let file = if report.filename().is_empty() || report.filename().starts_with("__tera") {
                fallback_file
            } else {
                report.filename()
            };
            Problem::new(file, report.message().to_owned()).at(Some(report.span().start_line))
        }
        other => Problem::new(fallback_file, other.to_string()),
    }
}

fn render_error(err: &tera::Error, path: &str) -> Error {
    let problem = problem_of(err, path);
    let hint = if problem.message.contains("not found in context") || problem.message.contains("not defined") {
        "every variable must be an answer, `project`, `data`, `pack`, `dozen` or `user`; guard optional ones with `is defined`"
    } else {
        "fix the template at that line"
    };
    let message = problem.message.clone();
    Error::Render { problem: problem.hint(hint), message }
}

#[cfg(test)]
mod tests {
    use super::Renderer;

    #[test]
    fn a_packs_expressions_are_parsed_once_when_the_engine_is_made() {
        use crate::pack::{Contents, Pack, PackFile, PackId, manifest::Manifest};
        let manifest = Manifest::parse(
            r#"
[pack]
name = "t"
version = "1.0.0"

[[questions]]
name = "db"
type = "choice"
choices = ["none", { value = "postgres", when = "name != 'x'" }]

[[questions]]
name = "team"
type = "string"
default = "{{ db | upper }}"

[[layers]]
path = "base"
when = "db == 'postgres'"

[[data.env]]
name = "DATABASE_URL"
when = "db != 'none'"
"#,
            "pack.toml",
        )
        .unwrap();
        let file = |text: &'static str| PackFile { contents: Contents::Static(text.as_bytes()), executable: false };
        let files = [("base/{% if db == 'postgres' %}db.sql{% endif %}".to_owned(), file("create table x ();"))];
        let id = PackId { name: "t".into(), version: "1.0.0".into(), source: "test".into(), commit: None };
        let pack = Pack { manifest, files: files.into_iter().collect(), chain: vec![id] };
        let r = Renderer::for_pack(&pack).unwrap();
        for source in [
            "{% if name != 'x' %}1{% endif %}",
            "{{ db | upper }}",
            "{% if db == 'postgres' %}1{% endif %}",
            "{% if db != 'none' %}1{% endif %}",
            "{% if db == 'postgres' %}db.sql{% endif %}",
        ] {
            assert!(r.compiled.contains(source), "{source:?} compiled; have {:?}", r.compiled);
        }
        let mut ctx = tera::Context::new();
        ctx.insert("db", "postgres");
        assert!(r.condition("db == 'postgres'", &ctx, "t").unwrap(), "a compiled condition evaluates");
        assert!(!r.condition("db == 'none'", &ctx, "t").unwrap(), "one the pack does not hold still evaluates");
        assert_eq!(r.render_str("{{ db | upper }}", &ctx, "t").unwrap(), "POSTGRES");
        let err = r.condition("db ==", &ctx, "pack.toml: layer").unwrap_err().to_string();
        assert!(err.contains("pack.toml: layer"), "{err}");
    }

    #[test]
    fn filters_and_conditions() {
        let r = Renderer::bare();
        let mut ctx = tera::Context::new();
        ctx.insert("name", "My Service");
        ctx.insert("db", "none");
        let out = r
            .render_str(
                "{{ name | slug }} {{ name | snake }} {{ name | pascal }} {{ name | camel }} {{ name | kebab }}",
                &ctx,
                "t",
            )
            .unwrap();
        assert_eq!(out, "my-service my_service MyService myService my-service");
        assert!(r.condition("db == 'none'", &ctx, "t").unwrap());
        assert!(!r.condition("db == 'postgres'", &ctx, "t").unwrap());
    }

    #[test]
    fn answers_are_escaped_for_the_file_they_land_in() {
        let r = Renderer::bare();
        let mut ctx = tera::Context::new();
        let hostile = "say \"hi\" \\ it's </x> ]]>";
        ctx.insert("d", hostile);
        let json = r.render_str("{\"description\": {{ d | json_string }}}", &ctx, "t").unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["description"], hostile, "JSON");
        let toml_text = r.render_str("description = {{ d | json_string }}\n", &ctx, "t").unwrap();
        let parsed: toml::Table = toml::from_str(&toml_text).unwrap();
        assert_eq!(parsed["description"].as_str(), Some(hostile), "TOML");
        let xml = r.render_str("<d>{{ d | escape_xml }}</d>", &ctx, "t").unwrap();
        assert!(!xml.contains("</x>") && !xml.contains("]]>"), "XML: {xml}");
        let sh = r.render_str("echo {{ d | shell_quote }}", &ctx, "t").unwrap();
        let out = std::process::Command::new("sh").arg("-c").arg(&sh).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), hostile, "shell");
    }

    #[test]
    fn undefined_variables_are_errors_with_a_line() {
        let r = Renderer::bare();
        let err = r.render_str("ok\n{{ missing }}", &tera::Context::new(), "file.txt.tera").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("file.txt.tera:2:"), "{text}");
    }

    #[test]
    fn limits_stop_renders_and_name_them() {
        use std::time::{Duration, Instant};

        use super::Limits;

        let small =
            Limits { file_bytes: 1000, total_bytes: 1500, file_time: Duration::from_millis(300), ..Limits::default() };
        let ctx = tera::Context::new();
        let flood = "{% for i in range(end=100) %}0123456789abcdef{% endfor %}";
        let recursion = "{% component f(n) %}{% if n > 0 %}{% for i in range(end=50) %}{{ <f n={n - 1}/> }}\
                         {% endfor %}{% endif %}{% endcomponent f %}{{ <f n={18}/> }}";
        // (renders in order on one engine: template, origin, Ok(len) or the error's start)
        let cases: [(&str, &str, Result<usize, &str>); 5] = [
            ("{{ 'x' ~ 'y' }}", "a.txt", Ok(2)),
            (flood, "flood.txt", Err("flood.txt: its output is larger than 1000 bytes")),
            (&"x".repeat(900), "b.txt", Ok(900)),
            (&"x".repeat(900), "c.txt", Err("c.txt: with it the rendered output is larger than 1500 bytes in all")),
            (recursion, "loop.txt", Err("loop.txt: rendering took more than 300ms")),
        ];
        let r = Renderer::bare().with_limits(small);
        for (template, origin, want) in cases {
            let started = Instant::now();
            let got = r.render_str(template, &ctx, origin).map(|s| s.len()).map_err(|e| e.to_string());
            match (&want, &got) {
                (Ok(n), Ok(m)) => assert_eq!(n, m, "{origin}"),
                (Err(start), Err(text)) => assert!(text.starts_with(start), "{origin}: {text}"),
                _ => panic!("{origin}: expected {want:?}, got {got:?}"),
            }
            assert!(started.elapsed() < Duration::from_secs(3), "{origin}: {:?}", started.elapsed());
        }
        // Totals count per run.
        let r2 = Renderer::bare().with_limits(small);
        for _ in 0..3 {
            r2.start_run();
            assert_eq!(r2.render_str(&"x".repeat(900), &ctx, "f.txt").unwrap().len(), 900);
        }
        // The stopped worker may still run: the engine refuses everything after it at once.
        let after = r.render_str("ok", &ctx, "d.txt").unwrap_err().to_string();
        assert!(after.contains("not rendered: an earlier template exceeded a limit (loop.txt"), "{after}");
        // Another engine is not affected.
        assert_eq!(Renderer::bare().render_str("ok", &ctx, "e.txt").unwrap(), "ok");
    }
}

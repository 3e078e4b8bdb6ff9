//! The template engine: one Tera instance per run, holding the `.tera` files of the pack that
//! other templates use (`{% include "partials/x.tera" %}`, `extends`, blocks, components) under
//! their pack-relative paths, with dozen's case filters registered in one place. Every other
//! template is checked when the pack is loaded, dropped, and parsed again only when rendered, so
//! memory does not grow by a parsed template per file. Engine errors become `file:line` problems
//! here.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use tera::{Context, Kwargs, State, Tera};

use crate::error::{Error, Problem, Result};
use crate::name;
use crate::pack::{Contents, Pack};

/// Suffix of files that are rendered; it is dropped from the output name.
pub const TEMPLATE_SUFFIX: &str = ".tera";

/// A Tera instance loaded with a pack's templates.
pub struct Renderer {
    tera: Tera,
    /// Templates no other template uses, sorted by pack-relative path: checked, not kept parsed.
    leaves: Vec<(Box<str>, Contents)>,
    /// Every template in one instance, made on first use by [`Renderer::template_variables`].
    full: OnceLock<Tera>,
}

impl Renderer {
    /// An engine without pack templates, for expressions only.
    pub fn bare() -> Renderer {
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::<&str>::new());
        register_filters(&mut tera);
        Renderer { tera, leaves: Vec::new(), full: OnceLock::new() }
    }

    /// Parses every `.tera` file of the pack; all syntax errors are reported at once.
    pub fn for_pack(pack: &Pack) -> Result<Renderer> {
        let mut renderer = Renderer::bare();
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
        if let Some(shared) = shared_templates(&templates)
            && renderer.keep_shared_only(pack, &templates, &shared)
        {
            return Ok(renderer);
        }
        renderer.leaves.clear();
        renderer.tera = Renderer::bare().tera;
        if renderer.tera.add_raw_templates(templates.iter().copied()).is_ok() {
            return Ok(renderer);
        }
        // Slow path, only for broken packs: parse each template alone to report every problem.
        let mut problems = Vec::new();
        for (path, text) in &templates {
            let mut alone = Renderer::bare().tera;
            if let Err(err) = alone.add_raw_template(path, text) {
                let problem = problem_of(&err, path);
                if !problem.message.contains("Unknown template") {
                    problems.push(problem.hint("fix the Tera syntax at that line"));
                }
            }
        }
        if problems.is_empty()
            && let Err(err) = renderer.tera.add_raw_templates(templates.iter().copied())
        {
            problems.push(problem_of(&err, "templates").hint("check that every included template exists in the pack"));
        }
        Err(Error::Pack { pack: pack.id().source.clone(), problems })
    }

    /// Loads the `shared` templates into the engine and checks every other one alone (against
    /// the shared ones when it includes any), keeping only its bytes. `false` when a template does
    /// not load, for the caller to collect every problem the usual way.
    fn keep_shared_only(&mut self, pack: &Pack, templates: &[(&str, &str)], shared: &HashSet<&str>) -> bool {
        if self.tera.add_raw_templates(templates.iter().filter(|(path, _)| shared.contains(path)).copied()).is_err() {
            return false;
        }
        self.leaves.reserve(templates.len() - shared.len());
        let mut alone = Renderer::bare().tera;
        let mut with_shared: Option<Tera> = None;
        for &(path, text) in templates.iter().filter(|(path, _)| !shared.contains(path)) {
            // One name for every check, so the scratch engine never holds more than one leaf.
            if alone.add_raw_template(LEAF_CHECK, text).is_err() {
                let with_shared = with_shared.get_or_insert_with(|| self.tera.clone());
                if with_shared.add_raw_template(LEAF_CHECK, text).is_err() {
                    return false;
                }
            }
            self.leaves.push((path.into(), pack.files[path].contents.clone()));
        }
        self.leaves.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        true
    }

    /// Renders a pack template by its pack-relative path.
    pub fn render_file(&self, path: &str, context: &Context) -> Result<String> {
        if let Ok(at) = self.leaves.binary_search_by(|(leaf, _)| (**leaf).cmp(path)) {
            let contents = &self.leaves[at].1;
            let text = std::str::from_utf8(contents.bytes()).expect("checked as UTF-8 when loaded");
            return self.tera.render_str(text, context, false).map_err(|err| render_error(&err, path));
        }
        self.tera.render(path, context).map_err(|err| render_error(&err, path))
    }

    /// Renders a one-off template string; `origin` names it in errors (e.g. `pack.toml: default of x`).
    pub fn render_str(&self, template: &str, context: &Context, origin: &str) -> Result<String> {
        self.tera.render_str(template, context, false).map_err(|err| {
            let mut error = render_error(&err, origin);
            if let Error::Render { problem, .. } = &mut error {
                origin.clone_into(&mut problem.file);
            }
            error
        })
    }

    /// Evaluates a `when` condition.
    pub fn condition(&self, expression: &str, context: &Context, origin: &str) -> Result<bool> {
        let out = self.render_str(&format!("{{% if {expression} %}}1{{% endif %}}"), context, origin)?;
        Ok(out == "1")
    }

    /// The top-level variables a pack template uses (best effort), for `pack check`.
    pub fn template_variables(&self, path: &str) -> Vec<String> {
        let tera = if self.leaves.is_empty() {
            &self.tera
        } else {
            self.full.get_or_init(|| {
                let mut full = self.tera.clone();
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
        let mut scratch = Renderer::bare().tera;
        scratch.add_raw_template("expr", template).map_err(|e| e.to_string())?;
        let vars = scratch.get_template_variables("expr").map_err(|e| e.to_string())?;
        Ok(vars.into_iter().map(str::to_owned).collect())
    }
}

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

/// dozen's case filters, registered in this one place.
fn register_filters(tera: &mut Tera) {
    tera.register_filter("slug", |s: &str, _: Kwargs, _: &State| name::slug(s));
    tera.register_filter("kebab", |s: &str, _: Kwargs, _: &State| name::slug(s));
    tera.register_filter("snake", |s: &str, _: Kwargs, _: &State| name::snake(s));
    tera.register_filter("pascal", |s: &str, _: Kwargs, _: &State| name::pascal(s));
    tera.register_filter("camel", |s: &str, _: Kwargs, _: &State| name::camel(s));
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

/// Builds a Tera context from named values.
pub fn context(values: &BTreeMap<String, tera::Value>) -> Context {
    let mut context = Context::new();
    for (k, v) in values {
        context.insert_value(k.clone(), v.clone());
    }
    context
}

#[cfg(test)]
mod tests {
    use super::Renderer;

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
    fn undefined_variables_are_errors_with_a_line() {
        let r = Renderer::bare();
        let err = r.render_str("ok\n{{ missing }}", &tera::Context::new(), "file.txt.tera").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("file.txt.tera:2:"), "{text}");
    }
}

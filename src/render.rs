//! The template engine: one Tera instance per run, holding every `.tera` file of the pack under
//! its pack-relative path (so `{% include "partials/x.tera" %}` works), with dozen's case filters
//! registered in one place. Engine errors become `file:line` problems here.

use tera::{Context, Kwargs, State, Tera};

use crate::error::{Error, Problem, Result};
use crate::name;
use crate::pack::Pack;

/// Suffix of files that are rendered; it is dropped from the output name.
pub const TEMPLATE_SUFFIX: &str = ".tera";

/// A Tera instance loaded with a pack's templates.
pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    /// An engine without pack templates, for expressions only.
    pub fn bare() -> Renderer {
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::<&str>::new());
        register_filters(&mut tera);
        Renderer { tera }
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

    /// Renders a pack template by its pack-relative path.
    pub fn render_file(&self, path: &str, context: &Context) -> Result<String> {
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
        self.tera
            .get_template_variables(path)
            .map(|vars| vars.into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The top-level variables a template string uses (best effort), for `pack check`.
    pub fn variables_of(&self, template: &str) -> std::result::Result<Vec<String>, String> {
        let mut scratch = Renderer::bare().tera;
        scratch.add_raw_template("expr", template).map_err(|e| e.to_string())?;
        let vars = scratch.get_template_variables("expr").map_err(|e| e.to_string())?;
        Ok(vars.into_iter().map(str::to_owned).collect())
    }
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
}

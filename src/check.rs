//! `dozen pack check`: everything that can be known about a pack without answering it. Manifest
//! schema and validation, template syntax, `when` and default expressions, variables no question
//! defines, `extends` and `requires` — every problem collected and reported at once as `file:line`.

use std::collections::{BTreeMap, HashSet};

use crate::error::{Error, Problem, Result};
use crate::pack::manifest::{RESERVED_NAMES, find_line};
use crate::pack::{Pack, Source};
use crate::render::{Renderer, TEMPLATE_SUFFIX};

/// What `pack check` found in a pack that loads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    /// The pack.
    pub pack: crate::pack::PackId,
    /// Number of questions.
    pub questions: usize,
    /// Number of layers.
    pub layers: usize,
    /// Number of files.
    pub files: usize,
}

/// Checks a pack; `Err(Error::Pack)` lists every problem.
pub fn check(source: &Source) -> Result<CheckReport> {
    let pack = match Pack::load(source) {
        Ok(pack) => pack,
        Err(Error::Pack { pack, mut problems }) => {
            // The manifest is broken: still check the templates against what can be read of it.
            if let Some(lenient) = source.read_lenient() {
                problems.extend(expression_problems(&lenient, &manifest_text(&lenient)));
                problems.extend(templates_checked(lenient)?);
            }
            problems.dedup_by(|a, b| a.to_string() == b.to_string());
            return Err(Error::Pack { pack, problems });
        }
        Err(other) => return Err(other),
    };
    let mut problems = templates_checked(pack.clone())?;
    problems.extend(structure_problems(&pack));
    if !problems.is_empty() {
        return Err(Error::Pack { pack: source.to_string(), problems });
    }
    Ok(CheckReport {
        pack: pack.id().clone(),
        questions: pack.manifest.questions.len(),
        layers: pack.manifest.layers.len(),
        files: pack.files.len(),
    })
}

/// Template syntax problems, then the variables of every template that parses: a file with a
/// syntax error is set aside so the others are still checked.
fn templates_checked(mut pack: Pack) -> Result<Vec<Problem>> {
    match Renderer::for_pack(&pack) {
        Ok(renderer) => Ok(template_problems(&pack, &renderer)),
        Err(Error::Pack { problems: syntax, .. }) => {
            let before = pack.files.len();
            pack.files.retain(|path, _| !syntax.iter().any(|p| p.file == *path));
            let mut problems = syntax;
            if pack.files.len() < before
                && let Ok(renderer) = Renderer::for_pack(&pack)
            {
                problems.extend(template_problems(&pack, &renderer));
            }
            Ok(problems)
        }
        Err(other) => Err(other),
    }
}

/// Loads a pack for use (`new`, `update`, `pack test`): the one validation pass every command runs
/// after loading, so a pack that `pack check` refuses is never used half-checked.
pub fn load(source: &Source) -> Result<Pack> {
    let pack = Pack::load(source)?;
    let problems = structure_problems(&pack);
    if !problems.is_empty() {
        return Err(Error::Pack { pack: pack.id().source.clone(), problems });
    }
    Ok(pack)
}

/// Problems of expressions and layers, cheap enough that every command checks them on every run.
pub fn structure_problems(pack: &Pack) -> Vec<Problem> {
    let manifest_text = manifest_text(pack);
    let mut problems = expression_problems(pack, &manifest_text);
    for layer in &pack.manifest.layers {
        let prefix = format!("{}/", layer.path.trim_end_matches('/'));
        if !pack.files.keys().any(|p| p.starts_with(&prefix)) {
            problems.push(
                Problem::new("pack.toml", format!("layer {:?} has no files", layer.path))
                    .at(find_line(&manifest_text, &format!("path = \"{}\"", layer.path)))
                    .hint("create the directory with at least one file, or remove the layer"),
            );
        }
    }
    problems
}

fn manifest_text(pack: &Pack) -> String {
    pack.files
        .get(crate::pack::source::MANIFEST)
        .map(|f| String::from_utf8_lossy(f.contents.bytes()).into_owned())
        .unwrap_or_default()
}

/// Names a template may use without a question defining them.
fn builtins() -> HashSet<String> {
    RESERVED_NAMES.iter().map(|s| (*s).to_owned()).chain(["loop".to_owned()]).collect()
}

fn template_problems(pack: &Pack, renderer: &Renderer) -> Vec<Problem> {
    let mut known = builtins();
    known.extend(pack.manifest.questions.iter().map(|q| q.name.clone()));
    let set_re = regex::Regex::new(r"\{%-?\s*set(?:_global)?\s+([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex");
    let include_re = regex::Regex::new(r#"\{%-?\s*include\s+"([^"]+)""#).expect("valid regex");
    let texts: Vec<(&String, String)> = pack
        .files
        .iter()
        .filter(|(path, _)| path.ends_with(TEMPLATE_SUFFIX))
        .map(|(path, file)| (path, String::from_utf8_lossy(file.contents.bytes()).into_owned()))
        .collect();
    // A template sees the variables it sets itself and those set by every template that includes
    // it (directly or through other includes): a partial may rely on its callers' `set`.
    let sets: BTreeMap<&str, HashSet<String>> = texts
        .iter()
        .map(|(path, text)| {
            (
                path.as_str(),
                set_re.captures_iter(text).filter_map(|c| c.get(1)).map(|m| m.as_str().to_owned()).collect(),
            )
        })
        .collect();
    let mut includers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (path, text) in &texts {
        for captures in include_re.captures_iter(text) {
            includers.entry(captures[1].to_owned()).or_default().push(path.as_str());
        }
    }
    let visible = |path: &str| -> HashSet<String> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut pending = vec![path];
        let mut names = HashSet::new();
        while let Some(next) = pending.pop() {
            if !seen.insert(next) {
                continue;
            }
            names.extend(sets.get(next).into_iter().flatten().cloned());
            pending.extend(includers.get(next).into_iter().flatten().copied());
        }
        names
    };
    let mut problems = Vec::new();
    for (path, text) in &texts {
        let local = visible(path);
        let mut unknown: Vec<String> = renderer
            .template_variables(path)
            .into_iter()
            .filter(|v| !known.contains(v) && !local.contains(v))
            .collect();
        unknown.sort();
        for var in unknown {
            problems.push(
                Problem::new((*path).clone(), format!("uses `{var}`, which no question defines"))
                    .at(find_word_line(text, &var))
                    .hint(format!("add a question named {var:?}, or fix the name")),
            );
        }
    }
    problems
}

fn expression_problems(pack: &Pack, manifest: &str) -> Vec<Problem> {
    let renderer = Renderer::bare();
    let mut problems = Vec::new();
    let mut known = builtins();
    let mut check = |expr: &str, what: String, known: &HashSet<String>, template: String| {
        let line = find_line(manifest, expr);
        match renderer.variables_of(&template) {
            Err(err) => problems.push(
                Problem::new("pack.toml", format!("{what} `{expr}` does not parse: {}", first_line(&err)))
                    .at(line)
                    .hint("write a Tera expression, e.g. `lang == 'go'`"),
            ),
            Ok(vars) => {
                for var in vars.iter().filter(|v| !known.contains(*v)) {
                    problems.push(
                        Problem::new(
                            "pack.toml",
                            format!("{what} `{expr}` names `{var}`, which no earlier question defines"),
                        )
                        .at(line)
                        .hint("refer only to questions asked before this one"),
                    );
                }
            }
        }
    };
    for q in &pack.manifest.questions {
        if let Some(when) = &q.when {
            check(when, format!("`when` of question {:?}", q.name), &known, format!("{{% if {when} %}}{{% endif %}}"));
        }
        for choice in &q.choices {
            if let Some(when) = choice.when() {
                check(
                    when,
                    format!("`when` of choice {:?}", choice.value()),
                    &known,
                    format!("{{% if {when} %}}{{% endif %}}"),
                );
            }
        }
        if let Some(toml::Value::String(default)) = &q.default
            && (default.contains("{{") || default.contains("{%"))
        {
            check(default, format!("default of question {:?}", q.name), &known, default.clone());
        }
        known.insert(q.name.clone());
    }
    for layer in &pack.manifest.layers {
        if let Some(when) = &layer.when {
            check(when, format!("`when` of layer {:?}", layer.path), &known, format!("{{% if {when} %}}{{% endif %}}"));
        }
    }
    if let Some(message) = &pack.manifest.message {
        check(&message.template, "[message] template".to_owned(), &known, message.template.clone());
    }
    for command in pack.manifest.hooks.iter().chain(&pack.manifest.checks) {
        if let Some(when) = &command.when {
            check(
                when,
                format!("`when` of command {:?}", command.run),
                &known,
                format!("{{% if {when} %}}{{% endif %}}"),
            );
        }
    }
    problems
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text).trim()
}

fn find_word_line(text: &str, word: &str) -> Option<usize> {
    let re = regex::Regex::new(&format!(r"\b{}\b", regex::escape(word))).ok()?;
    re.find(text).map(|m| crate::input::line_of(text, m.start()))
}

//! The `pack.toml` schema. Parsing is strict (unknown fields are rejected) and `validate` reports
//! every problem of a manifest at once, each located as `pack.toml:line` with a hint, so a pack
//! author fixes a broken manifest in one pass.

use serde::Deserialize;

use crate::error::Problem;
use crate::value::{Kind, Value};

/// Names the engine puts in the template context itself; questions may not use them.
pub const RESERVED_NAMES: &[&str] = &["project", "data", "pack", "dozen", "user"];

/// A parsed `pack.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Identity and requirements of the pack.
    pub pack: PackInfo,
    /// Questions, asked in order.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// Directories overlaid into the output in order.
    #[serde(default)]
    pub layers: Vec<Layer>,
    /// Free-form values exposed to templates as `data`; array items with a `when` key are kept only
    /// when it holds.
    #[serde(default)]
    pub data: toml::Table,
    /// Printed after generation.
    pub message: Option<Message>,
    /// Commands run in the generated directory after generation (need `--trust`).
    #[serde(default)]
    pub hooks: Vec<Command>,
    /// Commands `dozen pack test` runs in each rendered output.
    #[serde(default)]
    pub checks: Vec<Command>,
    /// Output paths of the parent pack (with `extends`) that this pack removes.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// The `[pack]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackInfo {
    /// Short name, used by `pack add` and in records.
    pub name: String,
    /// The pack's own semantic version.
    pub version: String,
    /// One line shown by `dozen list`.
    #[serde(default)]
    pub description: String,
    /// A semver requirement on dozen's version, e.g. `>=0.1`.
    pub requires: Option<String>,
    /// A pack this one builds on: built-in name, directory (relative to this pack), git URL or installed name.
    pub extends: Option<String>,
}

/// One question.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Identifier used in templates and `--set`.
    pub name: String,
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Text shown when asking; defaults to the name.
    pub prompt: Option<String>,
    /// One line of help shown beside the prompt and in `dozen list`.
    pub help: Option<String>,
    /// Default value; a string may be a Tera expression over earlier answers.
    pub default: Option<toml::Value>,
    /// Allowed values of choice and multi-choice questions.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Regex a string answer must match.
    pub validate: Option<Validation>,
    /// Tera condition over earlier answers; the question is skipped when it is false.
    pub when: Option<String>,
    /// Secret answers are never written to disk, nor shown in any message.
    #[serde(default)]
    pub secret: bool,
    /// A string answer may hold newlines (and tabs); other control characters are always refused.
    #[serde(default)]
    pub multiline: bool,
    /// Answers refused when a condition holds, e.g. project names that would shadow a package of
    /// the chosen stack (`[[questions.reserved]]`); string questions only.
    #[serde(default)]
    pub reserved: Vec<Reserved>,
    /// This string question's answer is the first commit's author when git config has no
    /// `user.name`; at most one question may say so.
    #[serde(default)]
    pub commit_author: bool,
}

/// Answers a string question refuses while a condition holds (`[[questions.reserved]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reserved {
    /// The refused answers, compared as snake_case identifiers (`tower-http` is `tower_http`).
    pub names: Vec<String>,
    /// Tera condition over the answers; without one the names are always refused. It may name
    /// later questions: the rule is checked when the answer that makes it hold is given.
    pub when: Option<String>,
    /// Why, shown after the name: `"a module of Python's standard library"`.
    pub reason: String,
}

impl Question {
    /// The text to ask with.
    pub fn prompt(&self) -> &str {
        self.prompt.as_deref().unwrap_or(&self.name)
    }
}

/// One allowed value of a choice question.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Choice {
    /// Just the value.
    Plain(String),
    /// The value with help text and an availability condition.
    Detailed(DetailedChoice),
}

/// A choice written as a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailedChoice {
    /// The value.
    pub value: String,
    /// One line of help.
    pub help: Option<String>,
    /// Tera condition over earlier answers; the choice is offered only when true.
    pub when: Option<String>,
    /// Other spellings accepted for this choice wherever an answer comes from (flags, answers
    /// files, records of older pack versions), e.g. `["true"]` when a yes/no question became a
    /// choice. An alias is stored as the choice's value.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl Choice {
    /// The value.
    pub fn value(&self) -> &str {
        match self {
            Choice::Plain(v) => v,
            Choice::Detailed(d) => &d.value,
        }
    }

    /// The help text.
    pub fn help(&self) -> Option<&str> {
        match self {
            Choice::Plain(_) => None,
            Choice::Detailed(d) => d.help.as_deref(),
        }
    }

    /// Other accepted spellings of the value.
    pub fn aliases(&self) -> &[String] {
        match self {
            Choice::Plain(_) => &[],
            Choice::Detailed(d) => &d.aliases,
        }
    }

    /// Whether `text` is this choice's value or one of its aliases.
    pub fn names(&self, text: &str) -> bool {
        self.value() == text || self.aliases().iter().any(|a| a == text)
    }

    /// The availability condition.
    pub fn when(&self) -> Option<&str> {
        match self {
            Choice::Plain(_) => None,
            Choice::Detailed(d) => d.when.as_deref(),
        }
    }
}

/// Regex validation of a string answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// The pattern the whole answer must match.
    pub regex: String,
    /// Shown when it does not.
    pub message: String,
}

/// One layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Directory inside the pack.
    pub path: String,
    /// Tera condition over the answers.
    pub when: Option<String>,
}

/// The after-generation message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// A Tera template rendered with the answers.
    pub template: String,
}

/// A hook or check command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Short label.
    pub name: Option<String>,
    /// Shell command line, run with `sh -c` in the generated directory.
    pub run: String,
    /// Tera condition over the answers.
    pub when: Option<String>,
}

impl Manifest {
    /// Parses `pack.toml` text. A syntax error is one problem at its line; schema errors (unknown
    /// fields, wrong types, misspelled question types) are all collected, each at the line of the
    /// offending key, by reading every table of the manifest on its own.
    pub fn parse(text: &str, file: &str) -> Result<Manifest, Vec<Problem>> {
        let first = match toml::from_str::<Manifest>(text) {
            Ok(manifest) => return Ok(manifest),
            Err(err) => err,
        };
        let located = |err: &toml::de::Error, offset: usize| {
            let line = err.span().map(|span| line_of(text, offset + span.start));
            Problem::new(file, err.message().trim().to_owned())
                .at(line)
                .hint("see docs/pack-format.md for every field of pack.toml")
        };
        let table: toml::Table = match toml::from_str(text) {
            Ok(table) => table,
            Err(err) => return Err(vec![located(&err, 0)]),
        };
        let mut problems = Vec::new();
        for key in table.keys() {
            if !TOP_LEVEL.contains(&key.as_str()) {
                problems.push(
                    Problem::new(file, format!("unknown field `{key}`, expected one of {}", TOP_LEVEL.join(", ")))
                        .at(find_key_line(text, 0, text.len(), key))
                        .hint("see docs/pack-format.md for every field of pack.toml"),
                );
            }
        }
        for (header, start, end) in sections(text) {
            let body = &text[start..end];
            let result = match header.as_str() {
                "pack" => toml::from_str::<PackInfo>(body).map(drop),
                "questions" => toml::from_str::<Question>(body).map(drop),
                "layers" => toml::from_str::<Layer>(body).map(drop),
                "hooks" | "checks" => toml::from_str::<Command>(body).map(drop),
                "message" => toml::from_str::<Message>(body).map(drop),
                _ => Ok(()),
            };
            if let Err(err) = result {
                problems.push(located(&err, start));
            }
        }
        if problems.is_empty() {
            problems.push(located(&first, 0));
        }
        Err(problems)
    }

    /// A best-effort reading of a manifest that does not parse: the question names and layer paths
    /// that can be read, so `pack check` can still check the templates against them.
    pub fn lenient(text: &str) -> Option<Manifest> {
        let table: toml::Table = toml::from_str(text).ok()?;
        let strings = |key: &str, field: &str| -> Vec<String> {
            table
                .get(key)
                .and_then(toml::Value::as_array)
                .map(|items| {
                    items.iter().filter_map(|i| i.get(field).and_then(toml::Value::as_str).map(str::to_owned)).collect()
                })
                .unwrap_or_default()
        };
        // Each question on its own: the ones that parse are kept whole (their expressions are
        // checked), the others by name only.
        let questions = table
            .get("questions")
            .and_then(toml::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        item.clone().try_into::<Question>().ok().or_else(|| {
                            Some(Question {
                                name: item.get("name")?.as_str()?.to_owned(),
                                kind: Kind::String,
                                prompt: None,
                                help: None,
                                default: None,
                                choices: Vec::new(),
                                validate: None,
                                when: None,
                                secret: false,
                                multiline: false,
                                reserved: Vec::new(),
                                commit_author: false,
                            })
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let layers = strings("layers", "path").into_iter().map(|path| Layer { path, when: None }).collect();
        Some(Manifest {
            pack: PackInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
                requires: None,
                extends: None,
            },
            questions,
            layers,
            data: toml::Table::new(),
            message: None,
            hooks: Vec::new(),
            checks: Vec::new(),
            remove: Vec::new(),
        })
    }

    /// Checks what the schema cannot: names, types of defaults, regexes, choices, versions.
    /// Expression checks that need the template engine live in `pack::check`.
    pub fn validate(&self, text: &str, file: &str, dozen_version: &semver::Version) -> Vec<Problem> {
        let mut problems = Vec::new();
        let locate = |needle: &str| find_line(text, needle);
        let mut problem = |needle: &str, message: String, hint: &str| {
            problems.push(Problem::new(file, message).at(locate(needle)).hint(hint));
        };

        if !is_slug(&self.pack.name) {
            problem(
                "name",
                format!("pack name {:?} is not a slug", self.pack.name),
                "use lowercase letters, digits and dashes",
            );
        }
        if semver::Version::parse(&self.pack.version).is_err() {
            problem(
                "version",
                format!("pack version {:?} is not a semantic version", self.pack.version),
                "write it as MAJOR.MINOR.PATCH, e.g. \"1.0.0\"",
            );
        }
        if let Some(requires) = &self.pack.requires {
            match semver::VersionReq::parse(requires) {
                Err(err) => problem(
                    "requires",
                    format!("requires {requires:?} is not a version requirement: {err}"),
                    "write e.g. \">=0.1\"",
                ),
                Ok(req) if !req.matches(dozen_version) => problem(
                    "requires",
                    format!("pack requires dozen {requires} but this is dozen {dozen_version}"),
                    "upgrade dozen, or use a pack version made for this one",
                ),
                Ok(_) => {}
            }
        }

        if !self.questions.iter().any(|q| q.name == "name") && self.pack.extends.is_none() {
            problem(
                "[pack]",
                "the pack has no `name` question, so a project made from it has no directory name".to_owned(),
                "add [[questions]] name = \"name\", type = \"string\"",
            );
        }
        let mut seen = std::collections::HashSet::new();
        let authors: Vec<&str> = self.questions.iter().filter(|q| q.commit_author).map(|q| q.name.as_str()).collect();
        if authors.len() > 1 {
            problem(
                "commit_author",
                format!("questions {} all say `commit_author = true`", authors.join(", ")),
                "keep `commit_author` on one question",
            );
        }
        for q in &self.questions {
            let needle = format!("name = \"{}\"", q.name);
            if q.kind != Kind::String && (q.commit_author || !q.reserved.is_empty()) {
                let field = if q.commit_author { "commit_author" } else { "reserved" };
                problem(
                    &needle,
                    format!("question {:?}: `{field}` only applies to string questions", q.name),
                    &format!("remove `{field}` or make the question a string"),
                );
            }
            for rule in q.reserved.iter().filter(|r| r.names.is_empty()) {
                problem(
                    &needle,
                    format!("question {:?}: a `reserved` rule ({}) lists no names", q.name, rule.reason),
                    "list the refused answers in `names`, or remove the rule",
                );
            }
            if !is_identifier(&q.name) {
                problem(
                    &needle,
                    format!("question name {:?} is not an identifier", q.name),
                    "use lowercase letters, digits and underscores, starting with a letter",
                );
            }
            if RESERVED_NAMES.contains(&q.name.as_str()) {
                problem(
                    &needle,
                    format!("question name {:?} is reserved by dozen", q.name),
                    &format!("rename it; {} are provided by dozen", RESERVED_NAMES.join(", ")),
                );
            }
            if !seen.insert(q.name.as_str()) {
                problem(
                    &needle,
                    format!("question {:?} is declared twice", q.name),
                    "give each question a unique name",
                );
            }
            let has_choices = matches!(q.kind, Kind::Choice | Kind::MultiChoice);
            if has_choices && q.choices.is_empty() {
                problem(
                    &needle,
                    format!("question {:?} is a {} but has no choices", q.name, q.kind),
                    "add `choices = [\"a\", \"b\"]`",
                );
            }
            if !has_choices && !q.choices.is_empty() {
                problem(
                    &needle,
                    format!("question {:?} is a {} and cannot have choices", q.name, q.kind),
                    "use `type = \"choice\"` or remove `choices`",
                );
            }
            let mut spellings: Vec<&str> = Vec::new();
            for choice in &q.choices {
                for spelling in std::iter::once(choice.value()).chain(choice.aliases().iter().map(String::as_str)) {
                    if spellings.contains(&spelling) {
                        problem(
                            &needle,
                            format!("question {:?}: {spelling:?} names two choices (a value or alias twice)", q.name),
                            "give every choice value and alias once",
                        );
                    }
                    spellings.push(spelling);
                }
            }
            let regex = match &q.validate {
                Some(_) if q.kind != Kind::String => {
                    problem(
                        &needle,
                        format!("question {:?}: `validate` only applies to string questions", q.name),
                        "remove `validate` or make the question a string",
                    );
                    None
                }
                Some(v) => match regex::Regex::new(&format!("^(?:{})$", v.regex)) {
                    Ok(re) => Some(re),
                    Err(err) => {
                        problem(
                            &needle,
                            format!("question {:?}: invalid regex {:?}: {err}", q.name, v.regex),
                            "fix the pattern (Rust regex syntax)",
                        );
                        None
                    }
                },
                None => None,
            };
            if let Some(default) = &q.default {
                let is_expression = default.as_str().is_some_and(|s| s.contains("{{") || s.contains("{%"));
                if !is_expression {
                    match Value::from_toml(q.kind, default) {
                        Err(err) => problem(
                            &needle,
                            format!("question {:?}: default {err}", q.name),
                            &format!("give a {} default", q.kind),
                        ),
                        Ok(value) => {
                            let values: Vec<&str> = match &value {
                                Value::String(s) if q.kind == Kind::Choice => vec![s.as_str()],
                                Value::List(items) => items.iter().map(String::as_str).collect(),
                                _ => vec![],
                            };
                            for v in values {
                                if !q.choices.iter().any(|c| c.value() == v) {
                                    problem(
                                        &needle,
                                        format!("question {:?}: default {v:?} is not one of its choices", q.name),
                                        "make the default one of the choices",
                                    );
                                }
                            }
                            if let (Some(re), Value::String(s), Some(v)) = (&regex, &value, &q.validate)
                                && !re.is_match(s)
                            {
                                problem(
                                    &needle,
                                    format!(
                                        "question {:?}: default {s:?} fails its own validation ({})",
                                        q.name, v.message
                                    ),
                                    "change the default or the regex",
                                );
                            }
                        }
                    }
                }
            }
        }
        for layer in &self.layers {
            if layer.path.split('/').any(|seg| seg == "..") || layer.path.starts_with('/') {
                problem(
                    &format!("path = \"{}\"", layer.path),
                    format!("layer path {:?} leaves the pack", layer.path),
                    "use a directory inside the pack",
                );
            }
        }
        problems
    }
}

pub use crate::input::line_of;

/// The top-level keys of `pack.toml`.
const TOP_LEVEL: &[&str] = &["pack", "questions", "layers", "data", "message", "hooks", "checks", "remove"];

/// The tables of a manifest written with headers (`[pack]`, `[[questions]]`…): the header's name
/// and the byte range of its body, up to the next header. Sub-tables (`[questions.validate]`) end
/// a body too; those are checked as part of the whole document.
fn sections(text: &str) -> Vec<(String, usize, usize)> {
    let mut found: Vec<(String, usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if let Some(last) = found.last_mut() {
                last.2 = offset;
            }
            let name = trimmed.trim_start_matches('[').split(']').next().unwrap_or_default().trim().to_owned();
            found.push((name, offset + line.len(), text.len()));
        }
        offset += line.len();
    }
    found
}

/// The line where `key` is assigned (`key = …`) between two byte offsets.
fn find_key_line(text: &str, start: usize, end: usize, key: &str) -> Option<usize> {
    let mut offset = start;
    for line in text[start..end].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('=') || rest.trim_start().starts_with(']'))
            || trimmed.starts_with(&format!("[{key}"))
        {
            return Some(line_of(text, offset));
        }
        offset += line.len();
    }
    None
}

/// The 1-based line of the first occurrence of `needle`, if any.
pub fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|offset| line_of(text, offset))
}

fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::Manifest;

    fn problems(text: &str) -> Vec<String> {
        let manifest = Manifest::parse(text, "pack.toml").expect("parses");
        manifest
            .validate(text, "pack.toml", &semver::Version::new(0, 1, 0))
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = "[pack]\nname = \"Bad Name\"\nversion = \"one\"\n\n[[questions]]\nname = \"x\"\ntype = \"choice\"\n";
        let found = problems(text);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].starts_with("pack.toml:2: pack name"), "{found:#?}");
        assert!(found[2].starts_with("pack.toml:1: the pack has no `name` question"), "{found:#?}");
        assert!(found[3].contains("has no choices"), "{found:#?}");
    }

    #[test]
    fn unknown_fields_are_rejected_with_a_line() {
        let err = Manifest::parse("[pack]\nname = \"a\"\nversion = \"1.0.0\"\ncolour = 1\n", "pack.toml").unwrap_err();
        assert_eq!(err[0].line, Some(4));
        assert!(err[0].message.contains("unknown field `colour`"), "{}", err[0].message);
    }

    #[test]
    fn every_schema_problem_is_reported_at_its_key() {
        let text = "extra = 1\n[pack]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[questions]]\nname = \"x\"\ntype = \"strng\"\n\n\
                    [[questions]]\nname = \"y\"\ntype = \"string\"\ncolour = \"red\"\n\n[[layers]]\npath = 3\n";
        let err = Manifest::parse(text, "pack.toml").unwrap_err();
        let found: Vec<(Option<usize>, bool)> =
            err.iter().map(|p| (p.line, p.message.contains("unknown") || p.message.contains("invalid"))).collect();
        assert_eq!(err.len(), 4, "{err:#?}");
        let lines: Vec<Option<usize>> = found.iter().map(|(l, _)| *l).collect();
        assert!(lines.contains(&Some(1)), "the unknown top-level field, at its line: {err:#?}");
        assert!(lines.contains(&Some(8)), "the misspelled type, at its line: {err:#?}");
        assert!(lines.contains(&Some(13)), "the unknown field, at its line: {err:#?}");
        assert!(lines.contains(&Some(16)), "the wrong type, at its line: {err:#?}");
        assert!(found.iter().all(|(_, named)| *named), "{err:#?}");
    }

    #[test]
    fn reserved_names_and_commit_author_are_read_and_checked() {
        let head = "[pack]\nname = \"a\"\nversion = \"1.0.0\"\n\n";
        let good = format!(
            "{head}[[questions]]\nname = \"name\"\ntype = \"string\"\n\n[[questions.reserved]]\n\
             when = \"lang == 'python'\"\nnames = [\"platform\", \"email\"]\nreason = \"a Python standard module\"\n\n\
             [[questions]]\nname = \"author\"\ntype = \"string\"\ncommit_author = true\n"
        );
        let manifest = Manifest::parse(&good, "pack.toml").expect("parses");
        let rule = &manifest.questions[0].reserved[0];
        assert_eq!(rule.names, ["platform", "email"]);
        assert_eq!(rule.when.as_deref(), Some("lang == 'python'"));
        assert!(manifest.questions[1].commit_author);
        assert_eq!(problems(&good), Vec::<String>::new());

        let cases = [
            (
                "[[questions]]\nname = \"name\"\ntype = \"string\"\n[[questions]]\nname = \"k8s\"\ntype = \"bool\"\n\
                 [[questions.reserved]]\nnames = [\"x\"]\nreason = \"r\"\n",
                "`reserved` only applies to string questions",
            ),
            (
                "[[questions]]\nname = \"name\"\ntype = \"string\"\n[[questions.reserved]]\nnames = []\nreason = \"r\"\n",
                "lists no names",
            ),
            (
                "[[questions]]\nname = \"name\"\ntype = \"string\"\ncommit_author = true\n\
                 [[questions]]\nname = \"owner\"\ntype = \"string\"\ncommit_author = true\n",
                "questions name, owner all say `commit_author = true`",
            ),
            (
                "[[questions]]\nname = \"name\"\ntype = \"string\"\n[[questions]]\nname = \"n\"\ntype = \"int\"\ncommit_author = true\n",
                "`commit_author` only applies to string questions",
            ),
        ];
        for (body, want) in cases {
            let found = problems(&format!("{head}{body}"));
            assert!(found.len() == 1 && found[0].contains(want), "{body}: {found:#?}");
        }
        let err = Manifest::parse(
            &format!(
                "{head}[[questions]]\nname = \"name\"\ntype = \"string\"\n[[questions.reserved]]\nnames = [\"x\"]\n"
            ),
            "pack.toml",
        )
        .unwrap_err();
        assert!(err.iter().any(|p| p.message.contains("reason")), "{err:#?}");
    }
}

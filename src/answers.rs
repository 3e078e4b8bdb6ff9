//! Answers: the one place that decides the value of every question. Values arrive from flags and
//! `--set`, an answers file, the user config, the pack's defaults or a prompt, in that order of
//! precedence, and every one of them goes through the same `accept` check. The result is an
//! immutable `Answers` value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{AnswerProblem, Error, Result};
use crate::name::ProjectName;
use crate::pack::Pack;
use crate::pack::manifest::{Choice, Question};
use crate::prompt::Prompter;
use crate::render::Renderer;
use crate::value::{Kind, Value};

/// The question whose answer is the project name.
pub const NAME_QUESTION: &str = "name";

/// Everything the answers can come from, highest precedence first.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `--lang`, `--set k=v`, positional NAME…: `(question, text, origin)`.
    pub explicit: Vec<(String, String, String)>,
    /// `--answers FILE`, parsed.
    pub file: Option<(PathBuf, toml::Table)>,
    /// `[defaults]` of the user config.
    pub config: Option<(PathBuf, toml::Table)>,
    /// Whether a prompt may be shown.
    pub interactive: bool,
    /// `user.name` / `user.email` for default expressions.
    pub user: BTreeMap<String, String>,
}

/// One resolved answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Question name.
    pub name: String,
    /// The value.
    pub value: Value,
    /// Never written to disk.
    pub secret: bool,
}

/// The resolved answers, in question order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// Answers of the questions that apply (a question whose `when` is false has none).
    pub values: Vec<Answer>,
    /// Forms of the project name, when the pack asks for one.
    pub project: Option<ProjectName>,
    /// `user.*` values, for later expression rendering.
    pub user: BTreeMap<String, String>,
}

impl Answers {
    /// The value of a question.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// Every non-secret answer as JSON, by question name, for reports.
    pub fn public_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.values
            .iter()
            .filter(|a| !a.secret)
            .map(|a| (a.name.clone(), serde_json::to_value(&a.value).expect("values serialize")))
            .collect()
    }

    /// The Tera context: every answer by name, plus `project` and `user`.
    pub fn context(&self) -> tera::Context {
        let mut context = tera::Context::new();
        for answer in &self.values {
            context.insert(answer.name.clone(), &answer.value);
        }
        if let Some(project) = &self.project {
            context.insert("project", project);
        }
        context.insert("user", &self.user);
        context
    }
}

/// `user.name` and `user.email` for default expressions: git config, else `$USER`.
pub fn user_identity() -> BTreeMap<String, String> {
    let (name, email) = crate::git::config_identity();
    let name = name.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "Unknown Author".to_owned());
    BTreeMap::from([("name".to_owned(), name), ("email".to_owned(), email.unwrap_or_default())])
}

/// Where a candidate value came from, for messages.
struct Candidate {
    value: std::result::Result<Value, String>,
    origin: String,
}

/// Resolves every question of the pack. Interactively, a "no" at the summary goes round again
/// with the answers given so far as the defaults, instead of losing them.
pub fn resolve(pack: &Pack, inputs: &Inputs, renderer: &Renderer, prompter: &mut dyn Prompter) -> Result<Answers> {
    let mut previous: Option<Answers> = None;
    loop {
        let answers = resolve_once(pack, inputs, renderer, prompter, previous.as_ref())?;
        if !inputs.interactive || confirm_summary(&answers, &pack.manifest.questions, prompter)? {
            return Ok(answers);
        }
        if !prompter.confirm("Change some answers?", true)? {
            return Err(Error::Cancelled);
        }
        previous = Some(answers);
    }
}

fn resolve_once(
    pack: &Pack,
    inputs: &Inputs,
    renderer: &Renderer,
    prompter: &mut dyn Prompter,
    previous: Option<&Answers>,
) -> Result<Answers> {
    let questions = &pack.manifest.questions;
    let mut problems = unknown_keys(questions, inputs);
    let mut explicit: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (key, text, origin) in &inputs.explicit {
        if let Some((previous, previous_origin)) = explicit.insert(key, (text, origin))
            && previous != text
        {
            let secret = questions.iter().any(|q| q.name == *key && q.secret);
            let message = if secret {
                format!("given twice, with different values ({previous_origin} and {origin})")
            } else {
                format!("given twice: {previous:?} ({previous_origin}) and {text:?} ({origin})")
            };
            problems.push(AnswerProblem {
                question: key.clone(),
                origin: origin.clone(),
                message,
                hint: format!("pass {key} once"),
            });
        }
    }

    let mut answers = Answers { values: Vec::new(), project: None, user: inputs.user.clone() };
    let mut missing = Vec::new();
    for question in questions {
        let context = answers.context();
        let origin = format!("pack.toml: question {:?}", question.name);
        if let Some(when) = &question.when {
            match renderer.condition(when, &context, &origin) {
                Ok(true) => {}
                Ok(false) => continue,
                // An earlier answer was refused, so conditions on it cannot be evaluated.
                Err(_) if !problems.is_empty() || !missing.is_empty() => break,
                Err(err) => return Err(err),
            }
        }
        let choices = match available_choices(question, renderer, &context, &origin) {
            Ok(choices) => choices,
            Err(_) if !problems.is_empty() || !missing.is_empty() => break,
            Err(err) => return Err(err),
        };
        let given = explicit
            .get(question.name.as_str())
            .map(|(text, origin)| Candidate { value: Value::parse(question.kind, text), origin: (*origin).to_owned() })
            .or_else(|| from_table(question, inputs.file.as_ref(), "answers file"));
        let given = given.or_else(|| implied(question, &choices, &explicit, questions, renderer, &context));
        let candidate = match given {
            Some(candidate) => Some(candidate),
            None => match fallback(question, inputs, &choices, renderer, &context) {
                Ok(candidate) if inputs.interactive => {
                    let default = previous
                        .and_then(|p| p.get(&question.name).cloned())
                        .or_else(|| candidate.and_then(|c| c.value.ok()));
                    Some(Candidate {
                        value: Ok(ask(question, default.as_ref(), &choices, &answers, prompter, questions, renderer)?),
                        origin: "prompt".into(),
                    })
                }
                Ok(candidate) => candidate,
                // A default expression over an answer that was refused cannot be evaluated.
                Err(_) if !problems.is_empty() => break,
                Err(err) => return Err(err),
            },
        };
        let value = match candidate {
            Some(candidate) => match accept(question, candidate.value, &choices, &answers, questions, renderer) {
                Ok(value) => Some(value),
                Err((message, hint)) => {
                    problems.push(AnswerProblem {
                        question: question.name.clone(),
                        origin: candidate.origin,
                        message,
                        hint,
                    });
                    None
                }
            },
            None => {
                missing.push(question.name.clone());
                None
            }
        };
        if let Some(value) = value {
            if question.name == NAME_QUESTION
                && let Value::String(text) = &value
            {
                answers.project = Some(ProjectName::parse(text)?);
            }
            answers.values.push(Answer { name: question.name.clone(), value, secret: question.secret });
        }
    }
    if !problems.is_empty() {
        return Err(Error::Answers(problems));
    }
    if !missing.is_empty() {
        return Err(Error::Missing(missing));
    }
    Ok(answers)
}

/// A choice not given, implied by a later explicit answer: `--stack flask` alone needs
/// `lang == 'python'`, so the language is python. Only when exactly one choice satisfies every
/// later explicit choice's condition and the default does not.
fn implied(
    question: &Question,
    choices: &[&Choice],
    explicit: &BTreeMap<&str, (&str, &str)>,
    questions: &[Question],
    renderer: &Renderer,
    context: &tera::Context,
) -> Option<Candidate> {
    if question.kind != Kind::Choice {
        return None;
    }
    let later = questions.iter().skip_while(|q| q.name != question.name).skip(1);
    let conditions: Vec<(&str, &str)> = later
        .filter_map(|q| {
            let (text, origin) = explicit.get(q.name.as_str())?;
            let when = q.choices.iter().find(|c| c.names(text))?.when()?;
            when.contains(question.name.as_str()).then_some((when, *origin))
        })
        .collect();
    if conditions.is_empty() {
        return None;
    }
    let holds = |value: &str| {
        let mut context = context.clone();
        context.insert(question.name.clone(), value);
        conditions.iter().all(|(when, _)| renderer.condition(when, &context, "implied answer").unwrap_or(false))
    };
    let fits: Vec<&&Choice> = choices.iter().filter(|c| holds(c.value())).collect();
    match fits.as_slice() {
        [only] => Some(Candidate {
            value: Ok(Value::String(only.value().to_owned())),
            origin: format!("implied by {}", conditions.iter().map(|(_, o)| *o).collect::<Vec<_>>().join(", ")),
        }),
        _ => None,
    }
}

fn unknown_keys(questions: &[Question], inputs: &Inputs) -> Vec<AnswerProblem> {
    let known = |key: &str| questions.iter().any(|q| q.name == key);
    let names = questions.iter().map(|q| q.name.as_str()).collect::<Vec<_>>().join(", ");
    let mut problems = Vec::new();
    let mut report = |key: &str, origin: String| {
        problems.push(AnswerProblem {
            question: key.to_owned(),
            origin,
            message: format!("this pack has no question {key:?}"),
            hint: format!("questions of this pack: {names}"),
        });
    };
    for (key, _, origin) in &inputs.explicit {
        if !known(key) {
            report(key, origin.clone());
        }
    }
    if let Some((path, table)) = &inputs.file {
        for key in table.keys() {
            if !known(key) {
                report(key, format!("answers file {}", path.display()));
            }
        }
    }
    problems
}

/// The value below the explicit channels: the user config, then the pack default.
fn fallback(
    question: &Question,
    inputs: &Inputs,
    choices: &[&Choice],
    renderer: &Renderer,
    context: &tera::Context,
) -> Result<Option<Candidate>> {
    if let Some(candidate) = from_table(question, inputs.config.as_ref(), "user config") {
        return Ok(Some(candidate));
    }
    Ok(default_of(question, choices, renderer, context)?
        .map(|value| Candidate { value, origin: "pack default".into() }))
}

fn from_table(question: &Question, table: Option<&(PathBuf, toml::Table)>, what: &str) -> Option<Candidate> {
    let (path, table) = table?;
    let value = table.get(&question.name)?;
    Some(Candidate { value: Value::from_toml(question.kind, value), origin: format!("{what} {}", path.display()) })
}

/// The choices offered given the answers so far.
pub fn available_choices<'q>(
    question: &'q Question,
    renderer: &Renderer,
    context: &tera::Context,
    origin: &str,
) -> Result<Vec<&'q Choice>> {
    let mut available = Vec::new();
    for choice in &question.choices {
        let ok = match choice.when() {
            Some(when) => renderer.condition(when, context, origin)?,
            None => true,
        };
        if ok {
            available.push(choice);
        }
    }
    Ok(available)
}

/// The pack default, rendered when it is an expression, and read as the question's type (a
/// rendered `"yes"` for a bool question is refused like any other wrong value); a choice without
/// one takes its first available choice.
fn default_of(
    question: &Question,
    choices: &[&Choice],
    renderer: &Renderer,
    context: &tera::Context,
) -> Result<Option<std::result::Result<Value, String>>> {
    match &question.default {
        Some(toml::Value::String(text)) if text.contains("{{") || text.contains("{%") => {
            let rendered = renderer.render_str(text, context, &format!("pack.toml: default of {:?}", question.name))?;
            Ok(Some(Value::parse(question.kind, &rendered).map_err(|e| format!("the rendered default: {e}"))))
        }
        Some(value) => Ok(Some(Value::from_toml(question.kind, value))),
        None if question.kind == Kind::Choice => Ok(choices.first().map(|c| Ok(Value::String(c.value().to_owned())))),
        None => Ok(None),
    }
}

/// The declared choice `text` is an alias of, or `text` itself.
fn unalias(question: &Question, text: String) -> String {
    match question.choices.iter().find(|c| c.value() != text && c.aliases().contains(&text)) {
        Some(choice) => choice.value().to_owned(),
        None => text,
    }
}

/// The single validation path: type, choices, regex, project-name and reserved-answer rules.
fn accept(
    question: &Question,
    value: std::result::Result<Value, String>,
    choices: &[&Choice],
    answers: &Answers,
    questions: &[Question],
    renderer: &Renderer,
) -> std::result::Result<Value, (String, String)> {
    let hide = |message: String| {
        if question.secret {
            format!("the value is not a valid {} (not shown: the question is secret)", question.kind)
        } else {
            message
        }
    };
    let value = value.map_err(|e| (hide(e), format!("give {} a {} value", question.name, question.kind)))?;
    let value = match value {
        Value::String(text) if question.kind == Kind::Choice => Value::String(unalias(question, text)),
        Value::List(items) if question.kind == Kind::MultiChoice => {
            Value::List(items.into_iter().map(|item| unalias(question, item)).collect())
        }
        other => other,
    };
    if let Value::String(text) = &value
        && let Some(c) =
            text.chars().find(|c| crate::untrusted::hidden(*c) && !(question.multiline && matches!(c, '\n' | '\t')))
    {
        let what = match c {
            '\n' => "a newline".to_owned(),
            c => format!("the control character {}", crate::untrusted::visible(&c.to_string())),
        };
        return Err((
            hide(format!("{} holds {what}", crate::untrusted::visible(&format!("{text:?}")))),
            "answer on one line without control characters".to_owned(),
        ));
    }
    let offered = || choices.iter().map(|c| c.value()).collect::<Vec<_>>().join(", ");
    let check_choice = |v: &str| -> std::result::Result<(), (String, String)> {
        if choices.iter().any(|c| c.value() == v) {
            return Ok(());
        }
        let message = match question.choices.iter().find(|c| c.value() == v) {
            Some(declared) => {
                let when = declared.when().unwrap_or_default();
                let mentioned: Vec<String> = answers
                    .values
                    .iter()
                    .filter(|a| {
                        !a.secret && when.split(|c: char| !c.is_alphanumeric() && c != '_').any(|word| word == a.name)
                    })
                    .map(|a| format!("{}={}", a.name, a.value))
                    .collect();
                format!("{v:?} needs `{when}`, but {}", mentioned.join(", "))
            }
            None => format!("{:?} is not one of the choices", crate::untrusted::visible(v)),
        };
        Err((message, format!("choose one of: {}", offered())))
    };
    match (&value, question.kind) {
        (Value::String(v), Kind::Choice) => check_choice(v)?,
        (Value::List(items), Kind::MultiChoice) => {
            for item in items {
                check_choice(item)?;
            }
        }
        (Value::String(v), Kind::String) => {
            if let Some(validation) = &question.validate {
                let re = regex::Regex::new(&format!("^(?:{})$", validation.regex))
                    .map_err(|e| (e.to_string(), "fix the pack's regex".to_owned()))?;
                if !re.is_match(v) {
                    return Err((
                        hide(format!("{v:?} is invalid: {}", validation.message)),
                        format!("match the pattern {}", validation.regex),
                    ));
                }
            }
            if question.name == NAME_QUESTION {
                ProjectName::parse(v).map_err(|err| match err {
                    Error::Name { reason, suggestion, .. } => (
                        format!("{v:?} cannot be a project name: {reason}"),
                        suggestion.map_or_else(
                            || "use letters, digits and dashes, starting with a letter".to_owned(),
                            |s| format!("try {s:?}"),
                        ),
                    ),
                    other => (other.to_string(), String::new()),
                })?;
            }
        }
        _ => {}
    }
    // Hook (names-limits): answers the pack reserves, e.g. names that shadow a stack's packages.
    refuse_reserved(question, &value, questions, answers, renderer)?;
    Ok(value)
}

fn ask(
    question: &Question,
    default: Option<&Value>,
    choices: &[&Choice],
    answers: &Answers,
    prompter: &mut dyn Prompter,
    questions: &[Question],
    renderer: &Renderer,
) -> Result<Value> {
    let prompt = crate::untrusted::visible(&match &question.help {
        Some(help) => format!("{} ({help})", question.prompt()),
        None => question.prompt().to_owned(),
    });
    loop {
        let raw: std::result::Result<Value, String> = match question.kind {
            Kind::Bool => Ok(Value::Bool(prompter.confirm(&prompt, matches!(default, Some(Value::Bool(true))))?)),
            Kind::Choice => {
                let items: Vec<String> = choices.iter().map(|c| label(c)).collect();
                let index = default
                    .as_ref()
                    .and_then(|d| choices.iter().position(|c| Some(c.value()) == d.as_str()))
                    .unwrap_or(0);
                let picked = prompter.select(&prompt, &items, index)?;
                Ok(Value::String(choices[picked].value().to_owned()))
            }
            Kind::MultiChoice => {
                let items: Vec<String> = choices.iter().map(|c| label(c)).collect();
                let chosen: Vec<bool> = choices
                    .iter()
                    .map(|c| matches!(&default, Some(Value::List(l)) if l.iter().any(|v| v == c.value())))
                    .collect();
                let picked = prompter.multi_select(&prompt, &items, &chosen)?;
                Ok(Value::List(picked.into_iter().map(|i| choices[i].value().to_owned()).collect()))
            }
            Kind::String | Kind::Int if question.secret => Value::parse(question.kind, &prompter.secret(&prompt)?),
            Kind::String | Kind::Int => {
                let shown = default.as_ref().map(ToString::to_string);
                Value::parse(question.kind, &prompter.input(&prompt, shown.as_deref())?)
            }
        };
        let raw = match raw {
            Ok(Value::String(s)) if s.is_empty() && question.kind == Kind::String => {
                Err("an answer is required".to_owned())
            }
            other => other,
        };
        match accept(question, raw, choices, answers, questions, renderer) {
            Ok(value) => return Ok(value),
            Err((message, hint)) => prompter.refuse(&format!("{message} — {hint}")),
        }
    }
}

fn label(choice: &Choice) -> String {
    crate::untrusted::visible(&match choice.help() {
        Some(help) => format!("{} — {help}", choice.value()),
        None => choice.value().to_owned(),
    })
}

fn confirm_summary(answers: &Answers, questions: &[Question], prompter: &mut dyn Prompter) -> Result<bool> {
    let mut summary = String::from("\nSummary:\n");
    for answer in &answers.values {
        let shown = if answer.secret { "********".to_owned() } else { answer.value.to_string() };
        let prompt = questions.iter().find(|q| q.name == answer.name).map_or(answer.name.as_str(), Question::prompt);
        summary.push_str(&format!("  {prompt:<28} {shown}\n"));
    }
    prompter.show(&summary);
    prompter.confirm("Generate the project?", true)
}

// ---- names-limits: answers a pack reserves (`[[questions.reserved]]`, docs/pack-format.md) ----

/// Refuses `value` for `question` when, with it, a `reserved` rule of some string question newly
/// holds: the owner's answer is one of the rule's names and its `when` is true now but was not
/// before this answer. So a rule over a later question (`name` reserved when `lang == 'python'`)
/// refuses the answer that makes it hold, once, and names both answers.
fn refuse_reserved(
    question: &Question,
    value: &Value,
    questions: &[Question],
    answers: &Answers,
    renderer: &Renderer,
) -> std::result::Result<(), (String, String)> {
    let answer_of = |owner: &Question| -> Option<String> {
        if owner.name == question.name {
            value.as_str().map(str::to_owned)
        } else {
            answers.get(&owner.name).and_then(Value::as_str).map(str::to_owned)
        }
    };
    let candidates: Vec<(&Question, &crate::pack::manifest::Reserved, String)> = questions
        .iter()
        .flat_map(|owner| owner.reserved.iter().map(move |rule| (owner, rule)))
        .filter_map(|(owner, rule)| {
            let text = answer_of(owner)?;
            crate::name::is_one_of(&text, &rule.names).then_some((owner, rule, text))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let before = answers.context();
    let mut after = answers.clone();
    after.values.push(Answer { name: question.name.clone(), value: value.clone(), secret: question.secret });
    if question.name == NAME_QUESTION
        && let Some(text) = value.as_str()
    {
        after.project = ProjectName::parse(text).ok();
    }
    let after = after.context();
    for (owner, rule, text) in candidates {
        let origin = format!("pack.toml: reserved of question {:?}", owner.name);
        // A condition over a question not answered yet cannot be evaluated: it does not hold yet.
        let holds = |context: &tera::Context| {
            rule.when.as_ref().is_none_or(|w| renderer.condition(w, context, &origin).unwrap_or(false))
        };
        let held_before = owner.name != question.name && answers.get(&owner.name).is_some() && holds(&before);
        if held_before || !holds(&after) {
            continue;
        }
        let shown = if owner.secret { "(not shown: secret)".to_owned() } else { format!("{text:?}") };
        let when = rule.when.as_ref().map(|w| format!(" when `{w}`")).unwrap_or_default();
        let suggestion = crate::name::unreserved_suggestion(&text);
        return Err(if owner.name == question.name {
            (format!("{shown} is reserved{when}: {}", rule.reason), format!("try {suggestion:?}"))
        } else {
            (
                format!(
                    "{} {:?} cannot be used with {} {shown}, which is reserved{when}: {}",
                    question.name,
                    value.to_string(),
                    owner.name,
                    rule.reason
                ),
                format!("try {suggestion:?} as {}, or choose another {}", owner.name, question.name),
            )
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::{Inputs, resolve};
    use crate::error::Error;
    use crate::pack::{Manifest, Pack, PackId};
    use crate::prompt::{NoPrompt, Scripted};
    use crate::render::Renderer;
    use crate::value::Value;

    /// The questions of a small service pack: the shapes every real pack uses.
    const QUESTIONS: &str = r#"
[pack]
name = "t"
version = "1.0.0"

[[questions]]
name = "name"
type = "string"

[[questions]]
name = "lang"
type = "choice"
choices = ["rust", "python"]
default = "rust"

[[questions]]
name = "stack"
type = "choice"
choices = [
  { value = "axum", when = "lang == 'rust'" },
  { value = "fastapi", when = "lang == 'python'" },
  { value = "flask", when = "lang == 'python'" },
]

[[questions]]
name = "port"
type = "int"
default = 8080

[[questions]]
name = "docker"
type = "bool"
default = true

[[questions]]
name = "image"
type = "string"
default = "{{ project.slug }}-{{ lang }}"
when = "docker"

[[questions]]
name = "features"
type = "multi-choice"
choices = ["metrics", "tracing"]
default = ["metrics"]

[[questions]]
name = "token"
type = "string"
secret = true
default = "none"
validate = { regex = "none|tok_[a-z]+", message = "a token starts with tok_" }
"#;

    /// A table row: what it tests, explicit answers, answers file, user config, expectation.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>, Option<&'a str>, &'a str);

    fn pack(text: &str) -> Pack {
        let manifest = Manifest::parse(text, "pack.toml").expect("the test pack parses");
        let id = PackId { name: "t".into(), version: "1.0.0".into(), source: "test".into(), commit: None };
        Pack { manifest, files: BTreeMap::new(), chain: vec![id] }
    }

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    /// Inputs with explicit `(key, value)` pairs, an answers file and a user config.
    fn inputs(explicit: &[(&str, &str)], file: Option<&str>, config: Option<&str>) -> Inputs {
        Inputs {
            explicit: explicit.iter().map(|(k, v)| ((*k).into(), (*v).into(), format!("--set {k}=…"))).collect(),
            file: file.map(|t| (PathBuf::from("answers.toml"), table(t))),
            config: config.map(|t| (PathBuf::from("config.toml"), table(t))),
            interactive: false,
            user: BTreeMap::from([("name".to_owned(), "Ada".to_owned())]),
        }
    }

    fn run(inputs: &Inputs) -> Result<BTreeMap<String, String>, Error> {
        let pack = pack(QUESTIONS);
        let renderer = Renderer::for_pack(&pack).unwrap();
        let answers = resolve(&pack, inputs, &renderer, &mut NoPrompt)?;
        Ok(answers.values.iter().map(|a| (a.name.clone(), a.value.to_string())).collect())
    }

    fn get(answers: &BTreeMap<String, String>, key: &str) -> String {
        answers.get(key).cloned().unwrap_or_else(|| "<absent>".into())
    }

    #[test]
    fn precedence_is_flags_then_answers_file_then_user_config_then_pack_default() {
        let cases: [Case; 5] = [
            ("pack default", &[], None, None, "8080"),
            ("user config over the default", &[], None, Some("port = 1"), "1"),
            ("answers file over the user config", &[], Some("port = 2"), Some("port = 1"), "2"),
            ("a flag over the answers file", &[("port", "3")], Some("port = 2"), Some("port = 1"), "3"),
            ("a flag over the user config", &[("port", "3")], None, Some("port = 1"), "3"),
        ];
        for (what, explicit, file, config, want) in cases {
            let mut all = vec![("name", "svc")];
            all.extend_from_slice(explicit);
            let answers = run(&inputs(&all, file, config)).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(get(&answers, "port"), want, "{what}");
        }
    }

    #[test]
    fn every_channel_checks_the_value_against_the_questions_type() {
        let cases: [Case; 6] = [
            ("a flag that is not an int", &[("port", "eighty")], None, None, "port"),
            ("an answers file with a string for an int", &[], Some("port = \"80\""), None, "port"),
            ("a user config with an int for a bool", &[], None, Some("docker = 1"), "docker"),
            ("a choice that does not exist", &[("lang", "cobol")], None, None, "lang"),
            ("a choice whose condition fails", &[("lang", "rust"), ("stack", "flask")], None, None, "stack"),
            ("a multi-choice item that does not exist", &[("features", "metrics,logs")], None, None, "features"),
        ];
        for (what, explicit, file, config, question) in cases {
            let mut all = vec![("name", "svc")];
            all.extend_from_slice(explicit);
            match run(&inputs(&all, file, config)) {
                Err(Error::Answers(problems)) => {
                    assert!(problems.iter().any(|p| p.question == question), "{what}: {problems:?}");
                }
                other => panic!("{what}: expected an invalid answer, got {other:?}"),
            }
        }
    }

    #[test]
    fn defaults_are_expressions_over_earlier_answers_and_when_skips_questions() {
        let answers = run(&inputs(&[("name", "My Svc"), ("lang", "python")], None, None)).unwrap();
        assert_eq!(get(&answers, "image"), "my-svc-python", "a rendered default over the name and lang");
        assert_eq!(get(&answers, "stack"), "fastapi", "a choice without a default takes its first available");
        let answers = run(&inputs(&[("name", "svc"), ("docker", "false")], None, None)).unwrap();
        assert_eq!(get(&answers, "image"), "<absent>", "`when = \"docker\"` is false: no answer");
    }

    #[test]
    fn a_later_choice_implies_an_earlier_one_only_when_unambiguous() {
        let answers = run(&inputs(&[("name", "svc"), ("stack", "flask")], None, None)).unwrap();
        assert_eq!((get(&answers, "lang"), get(&answers, "stack")), ("python".into(), "flask".into()));
        let answers = run(&inputs(&[("name", "svc"), ("stack", "axum")], None, None)).unwrap();
        assert_eq!(get(&answers, "lang"), "rust");
        let err = run(&inputs(&[("name", "svc"), ("lang", "rust"), ("stack", "flask")], None, None)).unwrap_err();
        assert!(matches!(err, Error::Answers(_)), "an explicit language is never overridden: {err:?}");
    }

    #[test]
    fn aliases_name_a_choice_from_every_channel_and_are_recorded_as_its_value() {
        let text = QUESTIONS.replace(
            "choices = [\"rust\", \"python\"]",
            "choices = [{ value = \"rust\", aliases = [\"true\", \"rs\"] }, { value = \"python\", aliases = [\"false\"] }]",
        );
        let pack = pack(&text);
        let renderer = Renderer::for_pack(&pack).unwrap();
        let cases: [Case; 5] = [
            ("a flag", &[("lang", "rs")], None, None, "rust"),
            ("a flag giving a bool's text", &[("lang", "false")], None, None, "python"),
            ("an old record's bool", &[], Some("lang = true"), None, "rust"),
            ("a user config", &[], None, Some("lang = false"), "python"),
            ("the value itself", &[("lang", "python")], None, None, "python"),
        ];
        for (what, explicit, file, config, want) in cases {
            let mut all = vec![("name", "svc")];
            all.extend_from_slice(explicit);
            let answers = resolve(&pack, &inputs(&all, file, config), &renderer, &mut NoPrompt)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let lang = answers.values.iter().find(|a| a.name == "lang").map(|a| a.value.to_string());
            assert_eq!(lang.as_deref(), Some(want), "{what}");
        }
        let twice = text.replace("aliases = [\"false\"]", "aliases = [\"rs\"]");
        let problems =
            Manifest::parse(&twice, "pack.toml").unwrap().validate(&twice, "pack.toml", &semver::Version::new(0, 1, 0));
        assert!(problems.iter().any(|p| p.to_string().contains("\"rs\" names two choices")), "{problems:?}");
    }

    #[test]
    fn a_rendered_default_must_have_the_questions_type() {
        let text = QUESTIONS.replace("default = 8080", "default = \"{{ lang }}\"");
        let pack = pack(&text);
        let renderer = Renderer::for_pack(&pack).unwrap();
        let err = resolve(&pack, &inputs(&[("name", "svc")], None, None), &renderer, &mut NoPrompt).unwrap_err();
        match err {
            Error::Answers(problems) => {
                assert_eq!(problems[0].question, "port");
                assert!(problems[0].message.contains("rendered default"), "{problems:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_answers_are_listed_at_once_and_unknown_keys_named() {
        let text = QUESTIONS.replace("default = 8080", "").replace("default = true", "");
        let pack = pack(&text);
        let renderer = Renderer::for_pack(&pack).unwrap();
        match resolve(&pack, &inputs(&[], None, None), &renderer, &mut NoPrompt).unwrap_err() {
            Error::Missing(names) => assert_eq!(names, ["name", "port", "docker"]),
            other => panic!("{other:?}"),
        }
        match run(&inputs(&[("name", "svc"), ("prot", "80")], None, None)).unwrap_err() {
            Error::Answers(problems) => {
                assert_eq!(problems[0].question, "prot");
                assert!(problems[0].hint.contains("port"), "the hint lists the real questions: {problems:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_are_validated_but_never_shown() {
        for (given, ok) in [("tok_abc", true), ("HUNTER2", false)] {
            let result = run(&inputs(&[("name", "svc"), ("token", given)], None, None));
            match (result, ok) {
                (Ok(answers), true) => assert_eq!(get(&answers, "token"), given),
                (Err(Error::Answers(problems)), false) => {
                    let shown = format!("{problems:?}");
                    assert!(!shown.contains("HUNTER2"), "{shown}");
                }
                (other, _) => panic!("{given}: {other:?}"),
            }
        }
        let err = run(&inputs(&[("name", "svc"), ("token", "tok_a"), ("token", "HUNTER2")], None, None)).unwrap_err();
        assert!(!format!("{err:?}").contains("HUNTER2"), "given twice: {err:?}");
    }

    #[test]
    fn free_text_refuses_control_characters_unless_the_question_is_multiline() {
        for bad in ["two\nlines", "esc\u{1b}[2K", "bell\u{7}", "rtl\u{202e}"] {
            let err = run(&inputs(&[("name", "svc"), ("image", bad)], None, None)).unwrap_err();
            assert!(matches!(err, Error::Answers(_)), "{bad:?}: {err:?}");
        }
        let text = QUESTIONS
            .replace("secret = true", "secret = false\nmultiline = true")
            .replace("validate = { regex = \"none|tok_[a-z]+\", message = \"a token starts with tok_\" }", "");
        let pack = pack(&text);
        let renderer = Renderer::for_pack(&pack).unwrap();
        let answers =
            resolve(&pack, &inputs(&[("name", "svc"), ("token", "a\nb")], None, None), &renderer, &mut NoPrompt)
                .unwrap();
        assert_eq!(answers.get("token"), Some(&Value::String("a\nb".into())), "multiline keeps newlines");
    }

    #[test]
    fn interactively_only_what_is_not_given_is_asked_and_a_refused_answer_is_asked_again() {
        let pack = pack(QUESTIONS);
        let renderer = Renderer::for_pack(&pack).unwrap();
        let mut given = inputs(&[("lang", "python")], None, None);
        given.interactive = true;
        // name, stack (python's choices only), port (refused once), docker, image, features, token, summary.
        let mut prompter = Scripted::new(&["svc", "flask", "eighty", "9000", "", "", "", "none", "y"]);
        let answers = resolve(&pack, &given, &renderer, &mut prompter).unwrap();
        assert_eq!(answers.get("stack"), Some(&Value::String("flask".into())));
        assert_eq!(answers.get("port"), Some(&Value::Int(9000)));
        assert_eq!(answers.get("image"), Some(&Value::String("svc-python".into())), "Enter takes the rendered default");
        assert!(!prompter.asked.iter().any(|p| p.starts_with("lang")), "lang was given: {:?}", prompter.asked);
        assert_eq!(prompter.refused.len(), 1, "the int was refused once: {:?}", prompter.refused);
        assert!(prompter.replies.is_empty(), "the whole script was used");
    }

    #[test]
    fn declining_the_summary_goes_round_again_with_the_answers_so_far() {
        let pack = pack(QUESTIONS);
        let renderer = Renderer::for_pack(&pack).unwrap();
        let mut given = inputs(&[("lang", "rust"), ("docker", "false"), ("token", "none")], None, None);
        given.interactive = true;
        // First round: name, stack, port, features; "no" at the summary, "yes" to change answers;
        // second round keeps everything with Enter but the port; then "yes".
        let mut prompter = Scripted::new(&["svc", "", "1234", "", "n", "y", "", "", "4321", "", "y"]);
        let answers = resolve(&pack, &given, &renderer, &mut prompter).unwrap();
        assert_eq!(answers.get("name"), Some(&Value::String("svc".into())), "kept from the first round");
        assert_eq!(answers.get("port"), Some(&Value::Int(4321)), "changed in the second round");
        let mut prompter = Scripted::new(&["svc", "", "", "", "n", "n"]);
        assert!(matches!(resolve(&pack, &given, &renderer, &mut prompter), Err(Error::Cancelled)));
    }
}

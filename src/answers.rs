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
            let when = q.choices.iter().find(|c| c.value() == *text)?.when()?;
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

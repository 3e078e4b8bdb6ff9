//! Which stacks this run exercises, from the `DOZEN_E2E` environment variable: unset skips the
//! tier (it needs toolchains, validators and PostgreSQL), `all` selects every stack, and anything
//! else is a comma list of `lang-stack` or `lang` filters. A filter that names no stack is an
//! error rather than an empty selection, so a typo cannot turn the tier into a silent pass.

use crate::stack::{STACKS, Stack};

/// The variable that selects the tier.
pub const VARIABLE: &str = "DOZEN_E2E";

/// The parsed value of `DOZEN_E2E`.
#[derive(Debug)]
pub struct Selection {
    filters: Vec<String>,
}

impl Selection {
    /// The selection in the environment; None when the tier is not selected at all.
    pub fn from_env() -> Option<Selection> {
        std::env::var(VARIABLE).ok().map(|value| Selection::parse(&value))
    }

    /// Parses a `DOZEN_E2E` value.
    pub fn parse(value: &str) -> Selection {
        let filters = value.split(',').map(|f| f.trim().to_ascii_lowercase()).filter(|f| !f.is_empty()).collect();
        Selection { filters }
    }

    /// Whether `stack` is selected.
    pub fn includes(&self, stack: &Stack) -> bool {
        self.filters.iter().any(|f| matches(f, stack))
    }

    /// Every problem with the value: filters that select nothing, or no filter at all.
    pub fn problems(&self) -> Vec<String> {
        let known = STACKS.iter().map(Stack::name).collect::<Vec<_>>().join(", ");
        if self.filters.is_empty() {
            return vec![format!("{VARIABLE} is set but empty; use `all` or a comma list of: {known}")];
        }
        self.filters
            .iter()
            .filter(|f| !STACKS.iter().any(|s| matches(f, s)))
            .map(|f| format!("{VARIABLE} filter `{f}` matches no stack; use `all`, a language or one of: {known}"))
            .collect()
    }
}

fn matches(filter: &str, stack: &Stack) -> bool {
    filter == "all" || filter == stack.lang || filter == stack.name()
}

#[test]
fn filters_select_by_language_or_stack() {
    let by_name = |s: &Selection| STACKS.iter().filter(|st| s.includes(st)).map(Stack::name).collect::<Vec<_>>();
    assert_eq!(by_name(&Selection::parse("all")).len(), 6);
    assert_eq!(by_name(&Selection::parse("python")), ["python-fastapi", "python-flask"]);
    assert_eq!(by_name(&Selection::parse(" go-nethttp, Java-Spring ")), ["go-nethttp", "java-spring"]);
    assert!(Selection::parse("rust-axum,python").problems().is_empty());
}

#[test]
fn unknown_or_empty_filters_are_problems() {
    let problems = Selection::parse("rust,pyhton").problems();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("`pyhton` matches no stack"), "{problems:?}");
    assert_eq!(Selection::parse(" , ").problems().len(), 1);
}

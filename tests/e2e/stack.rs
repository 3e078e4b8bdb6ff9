//! The stacks of the built-in catalogue (SPEC §5), as the tier names them: `lang-stack`, which is
//! also the directory of the stack's layer under `templates/service/stacks/`.

/// A language and framework pair of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    /// The `--lang` value.
    pub lang: &'static str,
    /// The `--stack` value.
    pub stack: &'static str,
}

/// Every built-in stack.
pub const STACKS: [Stack; 6] = [
    Stack { lang: "rust", stack: "axum" },
    Stack { lang: "python", stack: "fastapi" },
    Stack { lang: "python", stack: "flask" },
    Stack { lang: "node", stack: "express" },
    Stack { lang: "go", stack: "nethttp" },
    Stack { lang: "java", stack: "spring" },
];

impl Stack {
    /// `lang-stack`, e.g. `rust-axum`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.lang, self.stack)
    }

    /// The stack called `name`.
    pub fn named(name: &str) -> Stack {
        *STACKS.iter().find(|s| s.name() == name).unwrap_or_else(|| panic!("`{name}` is not a built-in stack"))
    }
}

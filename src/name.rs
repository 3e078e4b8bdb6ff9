//! The project name and the forms code needs: a slug for directories and images, snake_case and
//! PascalCase for identifiers. The case filters templates use are the same functions, so a name
//! and a filtered string can never disagree.

use crate::error::{Error, Result};

/// Longest slug accepted (a DNS label, so it can name images, services and hosts).
const MAX_LEN: usize = 63;

/// Reserved words and standard modules of the languages dozen generates code in; a project whose
/// identifier form is one of these would shadow or fail to compile.
const RESERVED: &[&str] = &[
    // Rust keywords and crates
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "yield",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    // Python keywords and standard modules
    "and",
    "assert",
    "class",
    "def",
    "del",
    "elif",
    "except",
    "finally",
    "from",
    "global",
    "import",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "try",
    "with",
    "none",
    "os",
    "sys",
    "io",
    "json",
    "logging",
    "typing",
    "time",
    "re",
    "string",
    "types",
    "http",
    "email",
    "socket",
    "select",
    "signal",
    "random",
    "math",
    "collections",
    "asyncio",
    "queue",
    "uuid",
    "site",
    "code",
    "abc",
    "ast",
    "enum",
    "secrets",
    "tests",
    // Go keywords and standard packages
    "go",
    "chan",
    "defer",
    "func",
    "interface",
    "map",
    "package",
    "range",
    "switch",
    "case",
    "default",
    "goto",
    "fallthrough",
    "var",
    "main",
    "fmt",
    "net",
    "errors",
    "context",
    "sync",
    "log",
    "bytes",
    "strings",
    "testing",
    // Java keywords and packages
    "abstract",
    "boolean",
    "byte",
    "catch",
    "char",
    "double",
    "extends",
    "final",
    "float",
    "implements",
    "instanceof",
    "int",
    "long",
    "native",
    "new",
    "null",
    "private",
    "protected",
    "public",
    "short",
    "synchronized",
    "this",
    "throw",
    "throws",
    "transient",
    "void",
    "volatile",
    "java",
    "javax",
    // Crates the Rust stack depends on: a package of the same name breaks its lockfile
    "axum",
    "tokio",
    "sqlx",
    "serde",
    "serde_json",
    "tracing",
    "tracing_subscriber",
    "tower",
    "tower_http",
    "hyper",
    "metrics",
    "clap",
    "anyhow",
    "thiserror",
    "futures",
    "bytes",
    "uuid",
    "chrono",
    "url",
    "rand",
    "log",
    "regex",
    // Node built-in modules
    "node",
    "fs",
    "path",
    "process",
    "events",
    "stream",
    "util",
    "url",
    "crypto",
    "buffer",
    "cluster",
    "dns",
    "tls",
    "worker_threads",
];

/// A validated project name and its derived forms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectName {
    /// As given.
    pub name: String,
    /// `my-service`.
    pub slug: String,
    /// `my_service`.
    pub snake: String,
    /// `MyService`.
    pub pascal: String,
    /// `myService`.
    pub camel: String,
}

impl ProjectName {
    /// Validates a name and derives its forms; refused names come with a suggestion.
    pub fn parse(name: &str) -> Result<ProjectName> {
        let slug = slug(name);
        let refuse =
            |reason: String, suggestion: Option<String>| Error::Name { name: name.to_owned(), reason, suggestion };
        if slug.is_empty() {
            return Err(refuse("it has no letters or digits".into(), None));
        }
        if slug.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(refuse("it starts with a digit".into(), Some(format!("app-{slug}"))));
        }
        if slug.len() > MAX_LEN {
            let cut = slug[..MAX_LEN].trim_end_matches('-').to_owned();
            return Err(refuse(format!("its slug is {} characters long, more than {MAX_LEN}", slug.len()), Some(cut)));
        }
        let snake = snake(&slug);
        if RESERVED.contains(&snake.as_str()) {
            return Err(refuse(
                format!("`{snake}` is a reserved word or standard module in one of the generated languages"),
                Some(format!("{slug}-service")),
            ));
        }
        Ok(ProjectName { name: name.to_owned(), pascal: pascal(&slug), camel: camel(&slug), snake, slug })
    }
}

/// Splits text into lowercase ASCII words at non-alphanumerics and lower→upper case changes.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            current.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// `My Service` → `my-service`.
pub fn slug(text: &str) -> String {
    words(text).join("-")
}

/// `My Service` → `my_service`.
pub fn snake(text: &str) -> String {
    words(text).join("_")
}

/// `my-service` → `MyService`.
pub fn pascal(text: &str) -> String {
    words(text).iter().map(|w| capitalize(w)).collect()
}

/// `my-service` → `myService`.
pub fn camel(text: &str) -> String {
    let pascal = pascal(text);
    let mut chars = pascal.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{ProjectName, camel, pascal, slug, snake};

    #[test]
    fn derives_every_form() {
        let cases = [
            ("My Service", "my-service", "my_service", "MyService", "myService"),
            ("orderAPI v2", "order-api-v2", "order_api_v2", "OrderApiV2", "orderApiV2"),
            ("  billing__svc!! ", "billing-svc", "billing_svc", "BillingSvc", "billingSvc"),
        ];
        for (input, s, sn, p, c) in cases {
            assert_eq!(
                (slug(input), snake(input), pascal(input), camel(input)),
                (s.into(), sn.into(), p.into(), c.into()),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_bad_names_with_suggestions() {
        let cases = [
            ("", "no letters", None),
            ("!!!", "no letters", None),
            ("9lives", "starts with a digit", Some("app-9lives")),
            ("test", "reserved", Some("test-service")),
            ("Async", "reserved", Some("async-service")),
        ];
        for (input, reason, suggestion) in cases {
            match ProjectName::parse(input) {
                Err(crate::error::Error::Name { reason: r, suggestion: s, .. }) => {
                    assert!(r.contains(reason), "{input}: {r}");
                    assert_eq!(s.as_deref(), suggestion, "{input}");
                }
                other => panic!("{input}: expected a name error, got {other:?}"),
            }
        }
        assert!(ProjectName::parse(&"a".repeat(64)).is_err());
        assert_eq!(ProjectName::parse(&"a".repeat(63)).unwrap().slug.len(), 63);
    }
}

//! The closed set of values an answer can hold. Answers arrive as text (flags, prompts) or TOML
//! (answers files, user config); both are converted here, once, against the question's type.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The type of a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Free text.
    String,
    /// true or false.
    Bool,
    /// A whole number.
    Int,
    /// One of the declared choices.
    Choice,
    /// Any subset of the declared choices.
    MultiChoice,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::String => "string",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Choice => "choice",
            Kind::MultiChoice => "multi-choice",
        })
    }
}

/// An answer's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Text, including a choice.
    String(String),
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A multi-choice selection.
    List(Vec<String>),
}

impl Value {
    /// Parses text typed at a prompt or given on the command line as a value of `kind`.
    pub fn parse(kind: Kind, text: &str) -> Result<Value, String> {
        let text = text.trim();
        match kind {
            Kind::String | Kind::Choice => Ok(Value::String(text.to_owned())),
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "on" => Ok(Value::Bool(true)),
                "false" | "no" | "n" | "0" | "off" => Ok(Value::Bool(false)),
                _ => Err(format!("expected a bool (true/false, yes/no), got {text:?}")),
            },
            Kind::Int => {
                text.parse::<i64>().map(Value::Int).map_err(|_| format!("expected a whole number, got {text:?}"))
            }
            Kind::MultiChoice => {
                Ok(Value::List(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()))
            }
        }
    }

    /// Converts a TOML value (answers file, user config) to a value of `kind`.
    pub fn from_toml(kind: Kind, value: &toml::Value) -> Result<Value, String> {
        match (kind, value) {
            (Kind::String | Kind::Choice, toml::Value::String(s)) => Ok(Value::String(s.clone())),
            // A record written when the question was a yes/no or a number: the choice's aliases
            // decide whether the old value still means something.
            (Kind::Choice, toml::Value::Boolean(b)) => Ok(Value::String(b.to_string())),
            (Kind::Choice, toml::Value::Integer(i)) => Ok(Value::String(i.to_string())),
            (Kind::Bool, toml::Value::Boolean(b)) => Ok(Value::Bool(*b)),
            (Kind::Int, toml::Value::Integer(i)) => Ok(Value::Int(*i)),
            (Kind::MultiChoice, toml::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| "expected an array of strings".to_owned()))
                .collect::<Result<_, _>>()
                .map(Value::List),
            (Kind::MultiChoice, toml::Value::String(s)) => Value::parse(kind, s),
            (kind, other) => Err(format!("expected a {kind}, got a {} ({other})", other.type_str())),
        }
    }

    /// The value as TOML, for the answers record.
    pub fn to_toml(&self) -> toml::Value {
        match self {
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Int(i) => toml::Value::Integer(*i),
            Value::List(items) => toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect()),
        }
    }

    /// The text form, for choices and display.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::List(items) => f.write_str(&items.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, Value};

    #[test]
    fn parses_text_by_kind() {
        let cases = [
            (Kind::Bool, "yes", Ok(Value::Bool(true))),
            (Kind::Bool, "off", Ok(Value::Bool(false))),
            (Kind::Int, " 42 ", Ok(Value::Int(42))),
            (Kind::MultiChoice, "a, b,,c", Ok(Value::List(vec!["a".into(), "b".into(), "c".into()]))),
            (Kind::String, "x", Ok(Value::String("x".into()))),
        ];
        for (kind, text, want) in cases {
            assert_eq!(Value::parse(kind, text), want, "{kind} {text:?}");
        }
        assert!(Value::parse(Kind::Bool, "maybe").unwrap_err().contains("expected a bool"));
        assert!(Value::parse(Kind::Int, "4.5").unwrap_err().contains("whole number"));
    }

    #[test]
    fn converts_toml_by_kind() {
        assert_eq!(Value::from_toml(Kind::Int, &toml::Value::Integer(3)), Ok(Value::Int(3)));
        let err = Value::from_toml(Kind::Bool, &toml::Value::String("true".into())).unwrap_err();
        assert!(err.contains("expected a bool, got a string"), "{err}");
    }
}

//! TOML inputs from the user: the user config (`$XDG_CONFIG_HOME/dozen/config.toml`, whose
//! `[defaults]` table sits between answers files and pack defaults) and `--answers` files. A
//! malformed file is reported with its path and line.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::line_of;

/// Where the user config lives.
pub fn user_config_path() -> Option<PathBuf> {
    let base =
        std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(dirs::config_dir)?;
    Some(base.join("dozen").join("config.toml"))
}

/// The `[defaults]` of the user config, if the file exists.
pub fn user_defaults() -> Result<Option<(PathBuf, toml::Table)>> {
    let Some(path) = user_config_path() else { return Ok(None) };
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let table = read_table(&path, "fix the file or move it away; it holds `[defaults]` answers for every run")?;
    for key in table.keys() {
        if key != "defaults" {
            return Err(Error::InputFile {
                path: path.clone(),
                line: None,
                message: format!("unknown table or key `{key}`"),
                hint: "the user config has one table, `[defaults]`, of question = value".into(),
            });
        }
    }
    match table.get("defaults") {
        None => Ok(None),
        Some(toml::Value::Table(defaults)) => Ok(Some((path, defaults.clone()))),
        Some(_) => Err(Error::InputFile {
            path,
            line: None,
            message: "`defaults` must be a table".into(),
            hint: "write `[defaults]` then `question = value` lines".into(),
        }),
    }
}

/// An `--answers` file: top-level `question = value`, or a `.dozen/answers.toml` record whose
/// `[answers]` table is used.
pub fn answers_file(path: &Path) -> Result<(PathBuf, toml::Table)> {
    let table = read_table(path, "write one `question = value` per line, e.g. `lang = \"go\"`")?;
    let answers = match (table.get("answers"), table.get("dozen")) {
        (Some(toml::Value::Table(answers)), Some(_)) => answers.clone(),
        _ => table,
    };
    Ok((path.to_path_buf(), answers))
}

fn read_table(path: &Path, hint: &str) -> Result<toml::Table> {
    let cannot = |message: String| Error::InputFile {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot read it: {message}"),
        hint: "name a TOML file (check the path)".into(),
    };
    let bytes = crate::input::read_regular(path, crate::input::FILE_LIMIT).map_err(|r| cannot(r.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8 text".into()))?;
    toml::from_str(&text).map_err(|err| Error::InputFile {
        path: path.to_path_buf(),
        line: err.span().map(|s| line_of(&text, s.start)),
        message: format!("invalid TOML: {}", err.message().trim()),
        hint: hint.to_owned(),
    })
}

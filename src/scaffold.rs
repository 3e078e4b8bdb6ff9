//! `dozen pack new DIR`: a small working pack to start from — a manifest with questions of several
//! types, one layer with a rendered file, a copied file and a conditional file, and a declared
//! check — that passes `pack check` and `pack test` as generated.

use std::path::Path;

use crate::error::Result;
use crate::plan::{Body, Plan, PlannedFile};

const FILES: &[(&str, &str)] = &[
    (
        "pack.toml",
        r#"# A dozen pack. Every field is described in dozen's docs/pack-format.md.
[pack]
name = "{{NAME}}"
version = "0.1.0"
description = "Describe what projects made from this pack are"
requires = ">={{DOZEN}}"

[[questions]]
name = "name"
type = "string"
prompt = "Project name"

[[questions]]
name = "owner"
type = "string"
prompt = "Owning team"
default = "platform"
validate = { regex = "[a-z][a-z0-9-]*", message = "lowercase letters, digits and dashes" }

[[questions]]
name = "flavour"
type = "choice"
prompt = "Flavour"
choices = [
  { value = "plain", help = "just the basics" },
  { value = "docs", help = "with a docs/ folder" },
]

[[questions]]
name = "port"
type = "int"
prompt = "Port"
default = 8080

[[questions]]
name = "ci"
type = "bool"
prompt = "Add a CI workflow?"
default = true

[[layers]]
path = "base"

[[checks]]
name = "readme mentions the project"
run = "grep -q \"$DOZEN_NAME\" README.md"

[message]
template = "Created {{ project.slug }}. Next: cd {{ project.slug }}"
"#,
    ),
    (
        "base/README.md.tera",
        "# {{ name }}\n\nOwned by {{ owner }}. Listens on port {{ port }}.\n{% if ci %}\nCI: `.ci.yml`.\n{% endif %}",
    ),
    ("base/.editorconfig", "root = true\n\n[*]\nend_of_line = lf\ninsert_final_newline = true\n"),
    ("base/{% if flavour == \"docs\" %}docs{% endif %}/index.md.tera", "# {{ project.pascal }} documentation\n"),
    ("base/{% if ci %}.ci.yml{% endif %}.tera", "# CI for {{ project.slug }}\nsteps:\n  - make test\n"),
];

/// Writes the scaffold into `dir`, which must not exist or be empty.
pub fn create(dir: &Path) -> Result<Vec<String>> {
    let name = crate::name::slug(&dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let name = if name.is_empty() { "my-pack".to_owned() } else { name };
    let version = crate::version();
    let files = FILES
        .iter()
        .map(|(path, text)| PlannedFile {
            path: (*path).to_owned(),
            source: "dozen".to_owned(),
            body: Body::Text(
                text.replace("{{NAME}}", &name).replace("{{DOZEN}}", &format!("{}.{}", version.major, version.minor)),
            ),
            executable: false,
            templated: false,
        })
        .collect();
    let plan = Plan { files };
    // Written like a project: staged beside the target and renamed into place, never half a pack.
    let interrupt = crate::write::Interrupt::install();
    if crate::write::prepare(dir, false)? {
        let changes: Vec<(&str, crate::write::Change<'_>)> = plan
            .files
            .iter()
            .map(|f| (f.path.as_str(), crate::write::Change::Write { bytes: f.body.bytes(), executable: false }))
            .collect();
        crate::write::apply(dir, &changes, &interrupt)?;
    } else {
        plan.stage(dir, &interrupt)?.commit(&interrupt)?;
    }
    Ok(FILES.iter().map(|(path, _)| (*path).to_owned()).collect())
}

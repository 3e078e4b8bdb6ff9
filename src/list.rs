//! `dozen list`: the built-in packs with their questions and choices, and the installed packs —
//! what a user (or a script, with `--json`) needs to know to write `dozen new` flags.

use crate::error::Result;
use crate::pack::{Pack, Source};
use crate::report::{ChoiceListing, ListReport, PackListing, QuestionListing};

/// `dozen list`: the built-in packs with their questions.
pub fn list() -> Result<ListReport> {
    let mut packs = Vec::new();
    for name in Source::builtin_names() {
        let pack = Pack::load(&Source::Builtin(name.to_owned()))?;
        packs.push(PackListing {
            name: pack.manifest.pack.name.clone(),
            version: pack.manifest.pack.version.clone(),
            description: pack.manifest.pack.description.clone(),
            source: pack.id().source.clone(),
            questions: pack
                .manifest
                .questions
                .iter()
                .map(|q| QuestionListing {
                    name: q.name.clone(),
                    kind: q.kind.to_string(),
                    prompt: q.prompt().to_owned(),
                    default: q.default.as_ref().map(|d| match d {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                    choices: q
                        .choices
                        .iter()
                        .map(|c| ChoiceListing {
                            value: c.value().to_owned(),
                            help: c.help().map(str::to_owned),
                            when: c.when().map(str::to_owned),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    let installed = crate::pack::store::Store::open().and_then(|store| store.list()).unwrap_or_default();
    Ok(ListReport { packs, installed })
}

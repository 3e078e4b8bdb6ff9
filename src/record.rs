//! `.dozen/answers.toml`: what a generated repository records about its own generation — dozen's
//! version, the pack chain with versions and commits, and every non-secret answer — so that
//! `dozen update` and replays (`--answers .dozen/answers.toml`) can render it again.

use serde::{Deserialize, Serialize};

use crate::answers::Answers;
use crate::pack::{Pack, PackId};

/// Path of the record inside the project.
pub const PATH: &str = ".dozen/answers.toml";

/// The record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `[dozen]`.
    pub dozen: DozenInfo,
    /// `[pack]`: the pack used, first of `chain`.
    pub pack: PackId,
    /// The packs it extends, nearest parent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<PackId>,
    /// Non-secret answers.
    pub answers: toml::Table,
}

/// `[dozen]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DozenInfo {
    /// Version that generated the repository.
    pub version: String,
}

impl Record {
    /// The record of a generation.
    pub fn new(pack: &Pack, answers: &Answers) -> Record {
        let answers =
            answers.values.iter().filter(|a| !a.secret).map(|a| (a.name.clone(), a.value.to_toml())).collect();
        Record {
            dozen: DozenInfo { version: crate::VERSION.to_owned() },
            pack: pack.id().clone(),
            chain: pack.chain.iter().skip(1).cloned().collect(),
            answers,
        }
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a record always serializes");
        format!("# Written by dozen; `dozen update` reads it. Secret answers are never recorded.\n{body}")
    }
}

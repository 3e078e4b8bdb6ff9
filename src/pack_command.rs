//! `dozen pack new|check|test|add|list|remove`: the orchestrator of the pack-authoring commands.
//! Each arm takes the request to a report and hands it to `ui`; the work lives in `scaffold`,
//! `check`, `matrix` and `pack::store`.

use crate::error::Result;
use crate::pack::{self, Pack, Source};
use crate::request::PackRequest;
use crate::{check, matrix, scaffold, ui};

/// Runs one `dozen pack` command and prints its result.
pub fn run(command: PackRequest) -> Result<()> {
    match command {
        PackRequest::New { dir, json } => {
            let files = scaffold::create(&dir)?;
            ui::print_value(
                &serde_json::json!({ "dir": dir.display().to_string(), "files": files }),
                json,
                &format!("Created pack in {} ({} files). Next: dozen pack check {0}", dir.display(), files.len()),
            );
        }
        PackRequest::Check { src, json } => {
            let report = check::check(&Source::parse(&src)?)?;
            ui::print_value(
                &report,
                json,
                &format!(
                    "{} {} is valid: {} questions, {} layers, {} files",
                    report.pack.name, report.pack.version, report.questions, report.layers, report.files
                ),
            );
        }
        PackRequest::Test { src, trust, max, json } => {
            let report = matrix::test(&Source::parse(&src)?, trust, max)?;
            let summary = format!(
                "{} {}: rendered {} of {} combinations{}{}",
                report.pack.name,
                report.pack.version,
                report.cases.len(),
                report.combinations,
                if report.sampled { " (all-pairs sample)" } else { "" },
                if report.checks_ran { ", checks passed" } else { "" }
            );
            ui::print_value(&report, json, &summary);
        }
        PackRequest::Add { src, name, json } => {
            let pack = Pack::load(&Source::parse(&src)?)?;
            let name = name.unwrap_or_else(|| pack.id().name.clone());
            let installed = pack::store::Store::open()?.add(&name, &pack)?;
            let human = format!(
                "Installed {} {} from {}{}",
                installed.name,
                installed.version,
                installed.source,
                installed.commit.as_deref().map(|c| format!(" at {}", &c[..c.len().min(12)])).unwrap_or_default()
            );
            ui::print_value(&installed, json, &human);
        }
        PackRequest::List { json } => {
            let packs = pack::store::Store::open()?.list()?;
            let text = if packs.is_empty() {
                "No installed packs. Add one with `dozen pack add SRC`.".to_owned()
            } else {
                packs
                    .iter()
                    .map(|p| {
                        format!("{:<20} {:<10} {} {}", p.name, p.version, p.source, p.commit.as_deref().unwrap_or("-"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            ui::print_value(&serde_json::json!({ "packs": packs }), json, &text);
        }
        PackRequest::Remove { name, json } => {
            let removed = pack::store::Store::open()?.remove(&name)?;
            ui::print_value(&removed, json, &format!("Removed {} {}", removed.name, removed.version));
        }
    }
    Ok(())
}

//! All printing and styling. Errors get their colour here and nowhere else; colour is used only on
//! a terminal and never when `NO_COLOR` is set. Human output goes to stderr, `--json` to stdout:
//! exactly one JSON document, on failure too. A closed pipe on either stream is not an error
//! (`dozen list | head -1`): output stops quietly and the exit code stays the command's own.

use console::style;

use crate::error::Error;
use crate::report::{ListReport, NewReport};
use crate::request::Verbosity;
use crate::update::base::Origin;
use crate::update::merge::Action;
use crate::update::report::UpdateReport;

/// Switches colour off when `NO_COLOR` is set (console already checks for a terminal).
pub fn init_colour() {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
}

/// The version of every `--json` document's shape (`schema_version`), raised when a field changes
/// meaning or goes away (docs/json.md).
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub use crate::output::{to_stderr, to_stdout};

/// Prints an error: with `json`, as the one JSON document on stdout (and nothing else); otherwise
/// every part of it and the hint that fixes it on stderr.
pub fn print_error(err: &Error, json: bool) {
    // An update with conflicts, or a fleet command, already printed its report, which says why:
    // one document only.
    if json && matches!(err, Error::Conflicts { .. } | Error::Fleet { .. }) {
        return;
    }
    if json {
        print_json(&error_document(err));
        return;
    }
    // Error text quotes pack-provided strings (hooks, paths, git output): shown, never interpreted.
    let v = |text: &str| crate::untrusted::visible_lines(text, true);
    let mut out = String::new();
    out.push_str(&format!("{} {}\n", style("error:").red().bold(), v(&err.to_string())));
    match err {
        Error::Answers(problems) => {
            for p in problems {
                out.push_str(&format!(
                    "  - {}: {} (from {})\n    {} {}\n",
                    style(v(&p.question)).bold(),
                    v(&p.message),
                    v(&p.origin),
                    style("fix:").green(),
                    v(&p.hint)
                ));
            }
        }
        Error::Pack { problems, .. } => {
            for p in problems {
                out.push_str(&format!("  - {}: {}\n", style(v(&p.location())).bold(), v(&p.message)));
                if let Some(hint) = &p.hint {
                    out.push_str(&format!("    {} {}\n", style("fix:").green(), v(hint)));
                }
            }
        }
        Error::InputFile { line: Some(line), .. } => out.push_str(&format!("  at line {line}\n")),
        _ => {}
    }
    if let Some(hint) = err.hint() {
        out.push_str(&format!("{} {}\n", style("fix:").green(), v(&hint)));
    }
    to_stderr(&out);
}

/// The `--json` document of an error: `{"error": {"kind", "message", "fix", "location", ...}}`.
pub fn error_document(err: &Error) -> serde_json::Value {
    let mut message = err.to_string();
    let mut problems = Vec::new();
    let mut location = None;
    match err {
        Error::Answers(list) => {
            for p in list {
                problems.push(serde_json::json!({
                    "question": p.question, "origin": p.origin, "message": p.message, "fix": p.hint,
                }));
            }
        }
        Error::Pack { problems: list, .. } => {
            location = list.first().map(crate::error::Problem::location);
            for p in list {
                problems.push(serde_json::json!({
                    "location": p.location(), "message": p.message, "fix": p.hint,
                }));
            }
        }
        Error::Render { problem, .. } => location = Some(problem.location()),
        Error::InputFile { path, line, .. } => {
            location = Some(match line {
                Some(line) => format!("{}:{line}", path.display()),
                None => path.display().to_string(),
            });
        }
        Error::Missing(names) => message = format!("{message}: {}", names.join(", ")),
        _ => {}
    }
    let mut body = serde_json::json!({
        "kind": err.kind(),
        "message": message,
        "fix": err.hint(),
        "location": location,
        "exit_code": err.exit_code(),
    });
    if !problems.is_empty() {
        body["problems"] = serde_json::Value::Array(problems);
    }
    serde_json::json!({ "schema_version": JSON_SCHEMA_VERSION, "error": body })
}

/// Prints the result of `dozen new`.
pub fn print_new(report: &NewReport, json: bool, verbosity: Verbosity) {
    if json {
        print_json(report);
        return;
    }
    if verbosity == Verbosity::Quiet {
        return;
    }
    let mut out = String::new();
    let verb = if report.dry_run { "Would write" } else { "Wrote" };
    if report.dry_run || verbosity == Verbosity::Verbose {
        for file in &report.files {
            let tag = if file.templated { "rendered" } else { "copied" };
            out.push_str(&format!("  {:>8}  {:<8} {}\n", file.size, tag, file.path));
        }
    }
    out.push_str(&format!(
        "{} {verb} {} files ({} bytes) to {}\n",
        style("✓").green(),
        report.files.len(),
        report.files.iter().map(|f| f.size).sum::<usize>(),
        style(&report.target).bold()
    ));
    for path in &report.replaced {
        out.push_str(&format!("  {} replaced existing {path}\n", style("!").yellow()));
    }
    match &report.git {
        crate::git::GitOutcome::Initialized { branch, commit } => {
            out.push_str(&format!(
                "{} git repository on {branch}, initial commit {}\n",
                style("✓").green(),
                &commit[..commit.len().min(8)]
            ));
        }
        crate::git::GitOutcome::AddedToParent { repository } => {
            out.push_str(&format!(
                "{} inside the git work tree {repository}: files added to its index, no nested repository created\n",
                style("✓").green()
            ));
        }
        crate::git::GitOutcome::InsideWorkTree { repository } => {
            out.push_str(&format!(
                "{} inside the git work tree {repository}: no nested repository created and its index left as it was (pass --git-add to stage the files)\n",
                style("i").cyan()
            ));
        }
        crate::git::GitOutcome::Skipped => {}
    }
    for hook in &report.hooks {
        out.push_str(&format!(
            "{} hook `{}` exited {}\n",
            if hook.code == 0 { style("✓").green() } else { style("✗").red() },
            crate::untrusted::visible(&hook.command),
            hook.code
        ));
    }
    if let Some(message) = report.message.as_ref().filter(|_| !report.dry_run) {
        out.push('\n');
        out.push_str(&crate::untrusted::visible_lines(message.trim_end(), true));
        out.push('\n');
    }
    to_stderr(&out);
}

/// Prints `dozen list`.
pub fn print_list(report: &ListReport, json: bool) {
    if json {
        print_json(report);
        return;
    }
    let mut out = String::new();
    for pack in &report.packs {
        out.push_str(&format!(
            "{} {} — {}\n  source: {}\n",
            style(&pack.name).bold(),
            pack.version,
            pack.description,
            pack.source
        ));
        for q in &pack.questions {
            let choices = q
                .choices
                .iter()
                .map(|c| match &c.when {
                    Some(when) => format!("{} (when {when})", c.value),
                    None => c.value.clone(),
                })
                .collect::<Vec<_>>();
            let default = q.default.as_deref().map(|d| format!(" [default: {d}]")).unwrap_or_default();
            out.push_str(&format!("  --set {:<12} {}{default}\n", q.name, q.kind));
            if !choices.is_empty() {
                out.push_str(&format!("      {}\n", choices.join(" | ")));
            }
        }
    }
    out.push_str("\nInstalled packs:");
    if report.installed.is_empty() {
        out.push_str(" none (add one with `dozen pack add SRC`)\n");
    } else {
        out.push('\n');
        for p in &report.installed {
            out.push_str(&format!("  {:<20} {:<10} {}\n", p.name, p.version, p.source));
        }
    }
    to_stdout(&format!("{}\n", out.trim_end()));
}

/// Prints plain lines on stdout.
pub fn print_lines(text: &str) {
    to_stdout(&format!("{text}\n"));
}

/// Prints a value as JSON, or the human text.
pub fn print_value<T: serde::Serialize>(value: &T, json: bool, human: &str) {
    if json { print_json(value) } else { print_lines(human) }
}

/// Prints the result of `dozen update`: one line per file, conflicts last; with `--dry-run` the
/// unified diffs follow on stdout.
pub fn print_update(report: &UpdateReport, json: bool, verbosity: Verbosity) {
    if json {
        print_json(report);
        return;
    }
    if verbosity == Verbosity::Quiet {
        return;
    }
    let pack = if report.from.name == report.to.name && report.from.version == report.to.version {
        format!("{} {}", report.to.name, report.to.version)
    } else {
        format!("{} {} → {} {}", report.from.name, report.from.version, report.to.name, report.to.version)
    };
    let base = match &report.base {
        Origin::Ref { name, commit } => format!("{name} at {}", &commit[..commit.len().min(12)]),
        Origin::Rev { rev, commit } => format!("--base {rev} at {}", &commit[..commit.len().min(12)]),
        Origin::Rendered { pack } => format!("{pack} rendered again"),
    };
    let mut out = format!(
        "{} {}: {pack} (base: {base})\n",
        if report.dry_run { "Would update" } else { "Updating" },
        style(&report.project).bold()
    );
    if let Some(tag) = &report.release_tag {
        out.push_str(&format!(
            "  pack      newest release tag {} (pin another with --pack-ref)\n",
            crate::untrusted::visible(tag)
        ));
    }
    for change in &report.answers {
        let shown = |v: &Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "(none)".to_owned(),
        };
        out.push_str(&format!("  answer    {}: {} → {}\n", change.name, shown(&change.from), shown(&change.to)));
    }
    for file in &report.files {
        let word = format!("{:<9}", file.action.as_str());
        let word = match file.action {
            Action::Conflict => style(word).red().bold(),
            Action::Kept | Action::Removed => style(word).yellow(),
            _ => style(word).green(),
        };
        let note = file.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        out.push_str(&format!("  {word} {}{note}\n", file.path));
    }
    let changed = report.files.iter().filter(|f| !matches!(f.action, Action::Kept | Action::Conflict)).count();
    if report.up_to_date() {
        out.push_str(&format!("{} already up to date\n", style("✓").green()));
    } else {
        let verb = if report.dry_run { "would change" } else { "changed" };
        out.push_str(&format!(
            "{} {changed} file{} {verb}, {} unchanged{}\n",
            style("✓").green(),
            if changed == 1 { "" } else { "s" },
            report.unchanged,
            report.commit.as_deref().map(|c| format!("; committed {}", &c[..c.len().min(12)])).unwrap_or_default()
        ));
    }
    to_stderr(&out);
    let diffs: String = report.files.iter().filter_map(|f| f.diff.as_deref()).collect();
    if !diffs.is_empty() {
        to_stdout(&diffs);
    }
}

/// Prints one JSON document on stdout, its `schema_version` first.
pub fn print_json<T: serde::Serialize>(value: &T) {
    let value = serde_json::to_value(value).expect("reports always serialize");
    let value = match value {
        serde_json::Value::Object(map) if !map.contains_key("schema_version") => {
            let mut with = serde_json::Map::new();
            with.insert("schema_version".into(), JSON_SCHEMA_VERSION.into());
            with.extend(map);
            serde_json::Value::Object(with)
        }
        serde_json::Value::Array(items) => serde_json::json!({ "schema_version": JSON_SCHEMA_VERSION, "items": items }),
        other => other,
    };
    let text = serde_json::to_string_pretty(&value).expect("reports always serialize");
    to_stdout(&format!("{text}\n"));
}

/// A path as the user would type it: relative to the current directory when it is under it.
fn shown_path(path: &str) -> String {
    let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let relative = cwd.as_deref().and_then(|cwd| std::path::Path::new(path).strip_prefix(cwd).ok());
    match relative {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Some(rel) => rel.display().to_string(),
        None => path.to_owned(),
    }
}

/// A list of files for a table cell: the first few, then how many more.
fn few(files: &[String]) -> String {
    let more = files.len().saturating_sub(3);
    let mut shown = files.iter().take(3).map(|f| crate::untrusted::visible(f)).collect::<Vec<_>>().join(", ");
    if more > 0 {
        shown.push_str(&format!(" +{more} more"));
    }
    shown
}

/// Pads `text` to `width` characters, then styles it (so colour codes do not break the columns).
fn cell(text: &str, width: usize, paint: impl Fn(String) -> console::StyledObject<String>) -> String {
    let padding = width.saturating_sub(console::measure_text_width(text));
    format!("{}{}", paint(text.to_owned()), " ".repeat(padding))
}

/// Prints `dozen status`: one row per repository on stdout, the counts on stderr.
pub fn print_status(report: &crate::fleet::report::StatusReport, json: bool) {
    use crate::fleet::report::State;
    if json {
        print_json(report);
        return;
    }
    let rows: Vec<[String; 6]> = report
        .repositories
        .iter()
        .map(|r| {
            let detail = match r.state {
                State::BehindConflicts => format!("conflicts: {}", few(&r.conflicts)),
                State::Behind => format!("{} file{} to update", r.changes, if r.changes == 1 { "" } else { "s" }),
                State::Drifted => format!("edited: {}", few(&r.drifted)),
                State::Dirty => format!("uncommitted: {}", few(&r.dirty)),
                State::Broken => crate::untrusted::visible(r.reason.as_deref().unwrap_or_default()),
                State::Current => String::new(),
            };
            let newest = match (&r.newest, &r.release_tag) {
                (Some(version), Some(tag)) if tag.trim_start_matches(['v', 'V']) != version => {
                    format!("{version} ({})", crate::untrusted::visible(tag))
                }
                (Some(version), _) => version.clone(),
                (None, _) => "-".to_owned(),
            };
            [
                crate::untrusted::visible(&shown_path(&r.path)),
                crate::untrusted::visible(r.pack.as_deref().unwrap_or("-")),
                r.recorded.clone().unwrap_or_else(|| "-".into()),
                newest,
                r.state.as_str().to_owned(),
                detail,
            ]
        })
        .collect();
    let header = ["REPOSITORY", "PACK", "RECORDED", "NEWEST", "STATE", ""];
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| console::measure_text_width(&r[i])).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let line = |cells: &[String; 6], state: Option<State>, out: &mut String| {
        let mut text = String::new();
        for (i, width) in widths.iter().enumerate() {
            let paint = |s: String| match (i, state) {
                (4, Some(State::Current)) => style(s).green(),
                (4, Some(State::Behind)) => style(s).yellow(),
                (4, Some(State::BehindConflicts | State::Broken)) => style(s).red().bold(),
                (4, Some(State::Drifted | State::Dirty)) => style(s).cyan(),
                _ => style(s),
            };
            text.push_str(&cell(&cells[i], *width, paint));
            text.push_str("  ");
        }
        text.push_str(&cells[5]);
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned), None, &mut out);
    for (row, repository) in rows.iter().zip(&report.repositories) {
        line(row, Some(repository.state), &mut out);
    }
    to_stdout(&out);
    let c = &report.counts;
    let mut summary = format!(
        "{} repositor{}: {} current, {} behind, {} behind with conflicts, {} drifted, {} dirty, {} broken\n",
        report.repositories.len(),
        if report.repositories.len() == 1 { "y" } else { "ies" },
        c.current,
        c.behind,
        c.behind_conflicts,
        c.drifted,
        c.dirty,
        c.broken
    );
    for r in report.repositories.iter().filter(|r| r.fix.is_some()) {
        summary.push_str(&format!(
            "  {} {}: {}\n",
            style("fix:").green(),
            crate::untrusted::visible(&shown_path(&r.path)),
            crate::untrusted::visible(r.fix.as_deref().unwrap_or_default())
        ));
    }
    to_stderr(&summary);
}

/// Prints `dozen update` over many repositories: what was done to each.
pub fn print_update_many(report: &crate::fleet::report::UpdateManyReport, json: bool, verbosity: Verbosity) {
    use crate::fleet::report::Done;
    if json {
        print_json(report);
        return;
    }
    if verbosity == Verbosity::Quiet {
        return;
    }
    let mut out = String::new();
    let width = report.repositories.iter().map(|r| shown_path(&r.path).chars().count()).max().unwrap_or(0);
    for r in &report.repositories {
        let word = format!("{:<12}", r.action.as_str());
        let word = match r.action {
            Done::Updated | Done::WouldUpdate => style(word).green(),
            Done::UpToDate => style(word).dim(),
            Done::Skipped => style(word).yellow(),
            Done::Failed => style(word).red().bold(),
        };
        let versions = match (&r.from, &r.to) {
            (Some(from), Some(to)) if from != to => format!("{from} → {to}"),
            (Some(version), _) => version.clone(),
            _ => String::new(),
        };
        let detail = match r.action {
            Done::Updated => format!(
                "{versions}, {} file{} on branch {} ({})",
                r.files,
                if r.files == 1 { "" } else { "s" },
                r.branch.as_deref().unwrap_or_default(),
                r.commit.as_deref().map_or("", |c| &c[..c.len().min(12)])
            ),
            Done::WouldUpdate => format!(
                "{versions}, {} file{} on branch {}",
                r.files,
                if r.files == 1 { "" } else { "s" },
                r.branch.as_deref().unwrap_or_default()
            ),
            Done::UpToDate => versions,
            Done::Skipped | Done::Failed => crate::untrusted::visible(r.reason.as_deref().unwrap_or_default()),
        };
        out.push_str(&format!("  {word} {:<width$}  {detail}\n", crate::untrusted::visible(&shown_path(&r.path))));
    }
    let updated = report.repositories.iter().filter(|r| matches!(r.action, Done::Updated | Done::WouldUpdate)).count();
    out.push_str(&format!(
        "{} {updated} of {} repositor{} {}{}\n",
        style("✓").green(),
        report.repositories.len(),
        if report.repositories.len() == 1 { "y" } else { "ies" },
        if report.dry_run { "would be updated" } else { "updated" },
        if updated > 0 && !report.dry_run {
            ", each on its new branch (now checked out; the branch it was on is unchanged)"
        } else {
            ""
        }
    ));
    to_stderr(&out);
}

/// Prints `dozen adopt`: how far the repository is from a fresh render.
pub fn print_adopt(report: &crate::adopt::AdoptReport, json: bool, verbosity: Verbosity) {
    use crate::adopt::Comparison;
    if json {
        print_json(report);
        return;
    }
    if verbosity == Verbosity::Quiet {
        return;
    }
    let mut out = format!(
        "{} {} under {} {}\n",
        if report.dry_run { "Would adopt" } else { "Adopted" },
        style(&report.project).bold(),
        crate::untrusted::visible(&report.pack.name),
        report.pack.version
    );
    let mut extra = 0;
    for file in &report.files {
        if file.state == Comparison::Extra && verbosity != Verbosity::Verbose {
            extra += 1;
            if extra > 10 {
                continue;
            }
        }
        let word = format!("{:<8}", file.state.as_str());
        let word = match file.state {
            Comparison::Differs => style(word).yellow(),
            Comparison::Missing => style(word).red(),
            _ => style(word).dim(),
        };
        out.push_str(&format!("  {word} {}\n", crate::untrusted::visible(&file.path)));
    }
    if extra > 10 {
        out.push_str(&format!("  … and {} more extra files (-v lists them)\n", extra - 10));
    }
    out.push_str(&format!(
        "{} {} same, {} differ, {} missing, {} extra (not rendered by the pack)\n",
        style("✓").green(),
        report.same,
        report.differs,
        report.missing,
        report.extra
    ));
    if !report.dry_run {
        let base = report.base.as_ref().map(|b| format!(" and {} at {}", b.name, &b.commit[..12])).unwrap_or_default();
        out.push_str(&format!(
            "  wrote {}{base}; commit it (`git add {0} && git commit`), then `dozen status` and `dozen update` work here\n",
            report.record
        ));
    }
    to_stderr(&out);
}

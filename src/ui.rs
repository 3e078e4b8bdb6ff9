//! All printing and styling. Errors get their colour here and nowhere else; colour is used only on
//! a terminal and never when `NO_COLOR` is set. Human output goes to stderr, `--json` to stdout.

use std::io::Write;

use console::style;

use crate::cli::Verbosity;
use crate::error::Error;
use crate::report::{ListReport, NewReport};
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

/// Prints an error, its every part, and the hint that fixes it.
pub fn print_error(err: &Error) {
    let mut out = String::new();
    out.push_str(&format!("{} {err}\n", style("error:").red().bold()));
    match err {
        Error::Answers(problems) => {
            for p in problems {
                out.push_str(&format!(
                    "  - {}: {} (from {})\n    {} {}\n",
                    style(&p.question).bold(),
                    p.message,
                    p.origin,
                    style("fix:").green(),
                    p.hint
                ));
            }
        }
        Error::Pack { problems, .. } => {
            for p in problems {
                out.push_str(&format!("  - {}: {}\n", style(p.location()).bold(), p.message));
                if let Some(hint) = &p.hint {
                    out.push_str(&format!("    {} {hint}\n", style("fix:").green()));
                }
            }
        }
        Error::InputFile { line: Some(line), .. } => out.push_str(&format!("  at line {line}\n")),
        _ => {}
    }
    if let Some(hint) = err.hint() {
        out.push_str(&format!("{} {hint}\n", style("fix:").green()));
    }
    eprint!("{out}");
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
        crate::git::GitOutcome::Skipped => {}
    }
    for hook in &report.hooks {
        out.push_str(&format!(
            "{} hook `{}` exited {}\n",
            if hook.code == 0 { style("✓").green() } else { style("✗").red() },
            hook.command,
            hook.code
        ));
    }
    if let Some(message) = &report.message {
        out.push('\n');
        out.push_str(message.trim_end());
        out.push('\n');
    }
    eprint!("{out}");
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
    let _ = writeln!(std::io::stdout(), "{}", out.trim_end());
}

/// Prints plain lines on stdout.
pub fn print_lines(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
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
    eprint!("{out}");
    let diffs: String = report.files.iter().filter_map(|f| f.diff.as_deref()).collect();
    if !diffs.is_empty() {
        let _ = write!(std::io::stdout(), "{diffs}");
    }
}

fn print_json<T: serde::Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("reports always serialize");
    let _ = writeln!(std::io::stdout(), "{text}");
}

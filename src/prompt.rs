//! The seam between answering and the terminal. `answers` asks through the `Prompter` trait;
//! `Dialoguer` is the real implementation and the only place dialoguer is used, so the flow is
//! unit-tested with a scripted prompter and proven once end to end through a pseudo-terminal.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, MultiSelect, Password, Select};

use crate::error::{Error, Result};

/// Asks the user things.
pub trait Prompter {
    /// Free text; `default` is accepted with Enter.
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Result<String>;
    /// Hidden text.
    fn secret(&mut self, prompt: &str) -> Result<String>;
    /// Yes or no.
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool>;
    /// One of `items`; returns its index.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize>;
    /// Any of `items`; returns their indices.
    fn multi_select(&mut self, prompt: &str, items: &[String], defaults: &[bool]) -> Result<Vec<usize>>;
    /// Tells the user why an answer was refused, before asking again.
    fn refuse(&mut self, reason: &str);
    /// Shows text (the summary) without asking.
    fn show(&mut self, text: &str);
}

/// The terminal prompter.
pub struct Dialoguer {
    theme: ColorfulTheme,
}

impl Dialoguer {
    /// A prompter on the process's terminal.
    pub fn new() -> Dialoguer {
        Dialoguer { theme: ColorfulTheme::default() }
    }
}

impl Default for Dialoguer {
    fn default() -> Self {
        Self::new()
    }
}

/// Ctrl-C or a closed terminal at a prompt: the cursor a select list hid is shown again.
fn cancelled(_: dialoguer::Error) -> Error {
    let _ = console::Term::stderr().show_cursor();
    Error::Cancelled
}

impl Prompter for Dialoguer {
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Result<String> {
        let mut input = Input::<String>::with_theme(&self.theme).with_prompt(prompt).allow_empty(true);
        if let Some(default) = default {
            input = input.default(default.to_owned());
        }
        input.interact_text().map_err(cancelled)
    }

    fn secret(&mut self, prompt: &str) -> Result<String> {
        Password::with_theme(&self.theme).with_prompt(prompt).allow_empty_password(true).interact().map_err(cancelled)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        Confirm::with_theme(&self.theme).with_prompt(prompt).default(default).interact().map_err(cancelled)
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        Select::with_theme(&self.theme).with_prompt(prompt).items(items).default(default).interact().map_err(cancelled)
    }

    fn multi_select(&mut self, prompt: &str, items: &[String], defaults: &[bool]) -> Result<Vec<usize>> {
        MultiSelect::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(items)
            .defaults(defaults)
            .interact()
            .map_err(cancelled)
    }

    fn refuse(&mut self, reason: &str) {
        crate::output::to_stderr(&format!(
            "{}\n",
            console::style(format!("  {}", crate::untrusted::visible(reason))).red()
        ));
    }

    fn show(&mut self, text: &str) {
        crate::output::to_stderr(&format!("{}\n", crate::untrusted::visible_lines(text, true)));
    }
}

/// A prompter for runs that must not ask: any question is a bug in the caller.
pub struct NoPrompt;

impl Prompter for NoPrompt {
    fn input(&mut self, prompt: &str, _: Option<&str>) -> Result<String> {
        unreachable_prompt(prompt)
    }
    fn secret(&mut self, prompt: &str) -> Result<String> {
        unreachable_prompt(prompt)
    }
    fn confirm(&mut self, prompt: &str, _: bool) -> Result<bool> {
        unreachable_prompt(prompt)
    }
    fn select(&mut self, prompt: &str, _: &[String], _: usize) -> Result<usize> {
        unreachable_prompt(prompt)
    }
    fn multi_select(&mut self, prompt: &str, _: &[String], _: &[bool]) -> Result<Vec<usize>> {
        unreachable_prompt(prompt)
    }
    fn refuse(&mut self, _: &str) {}
    fn show(&mut self, _: &str) {}
}

fn unreachable_prompt<T>(prompt: &str) -> Result<T> {
    Err(Error::Usage {
        message: format!("dozen tried to ask {prompt:?} in a run that cannot prompt"),
        hint: "please report this; pass the answer with --set meanwhile".into(),
    })
}

/// A prompter that plays back a script of replies, in order, and records every prompt it was
/// shown: the seam through which the interactive flow is tested without a terminal.
#[derive(Debug, Default)]
pub struct Scripted {
    /// Replies still to give: text for input and secrets, `"y"`/`"n"` for confirms, the chosen
    /// value's label prefix for select, comma-separated label prefixes for multi-select.
    pub replies: std::collections::VecDeque<String>,
    /// Every prompt asked, in order.
    pub asked: Vec<String>,
    /// Every refusal shown.
    pub refused: Vec<String>,
}

impl Scripted {
    /// A prompter that will reply `replies` in order.
    pub fn new(replies: &[&str]) -> Scripted {
        Scripted { replies: replies.iter().map(|r| (*r).to_owned()).collect(), ..Scripted::default() }
    }

    fn next(&mut self, prompt: &str) -> Result<String> {
        self.asked.push(prompt.to_owned());
        self.replies.pop_front().ok_or(Error::Cancelled)
    }

    fn pick(items: &[String], reply: &str) -> Result<usize> {
        items.iter().position(|i| i.starts_with(reply)).ok_or_else(|| Error::Usage {
            message: format!("scripted reply {reply:?} is none of {items:?}"),
            hint: "fix the test's script".into(),
        })
    }
}

impl Prompter for Scripted {
    fn input(&mut self, prompt: &str, default: Option<&str>) -> Result<String> {
        let reply = self.next(prompt)?;
        Ok(if reply.is_empty() { default.unwrap_or_default().to_owned() } else { reply })
    }
    fn secret(&mut self, prompt: &str) -> Result<String> {
        self.next(prompt)
    }
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        let reply = self.next(prompt)?;
        Ok(if reply.is_empty() { default } else { reply == "y" })
    }
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        let reply = self.next(prompt)?;
        if reply.is_empty() { Ok(default) } else { Self::pick(items, &reply) }
    }
    fn multi_select(&mut self, prompt: &str, items: &[String], defaults: &[bool]) -> Result<Vec<usize>> {
        let reply = self.next(prompt)?;
        if reply.is_empty() {
            return Ok(defaults.iter().enumerate().filter(|(_, on)| **on).map(|(i, _)| i).collect());
        }
        reply.split(',').map(|r| Self::pick(items, r.trim())).collect()
    }
    fn refuse(&mut self, reason: &str) {
        self.refused.push(reason.to_owned());
    }
    fn show(&mut self, _: &str) {}
}

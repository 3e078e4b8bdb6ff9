//! Text from a pack, a cloned repository or an answer is untrusted: shown on a terminal as it is,
//! a carriage return or an escape sequence could rewrite what the user reads (a hook that looks
//! harmless in the trust prompt). `visible` is the one function that turns such text into
//! something a terminal shows literally; every pack-provided string passes through it before it
//! is printed.

use std::fmt::Write;

/// `text` with every control character, and every Unicode character that reorders or hides text
/// (bidi overrides, zero-width joiners), written as a visible escape (`\r`, `\x1b`, `\u{202e}`).
/// Newlines are kept only when `keep_newlines` is set (multi-line messages).
pub fn visible_lines(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' if keep_newlines => out.push('\t'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) => {
                let code = u32::from(c);
                if code < 0x80 {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{{{code:x}}}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` on one line, every control character visible.
pub fn visible(text: &str) -> String {
    visible_lines(text, false)
}

/// Whether a terminal would not show `c` as itself.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::{visible, visible_lines};

    #[test]
    fn control_characters_are_shown_not_interpreted() {
        let cases = [
            ("echo hi", "echo hi"),
            ("rm -rf ~\r\x1b[2Kecho harmless", "rm -rf ~\\r\\x1b[2Kecho harmless"),
            ("a\nb", "a\\nb"),
            ("nul\0", "nul\\x00"),
            ("bell\x07", "bell\\x07"),
            ("del\x7f", "del\\x7f"),
            ("csi\u{9b}31m", "csi\\u{9b}31m"),
            ("abc\u{202e}cba", "abc\\u{202e}cba"),
            ("café münster 日本", "café münster 日本"),
        ];
        for (input, want) in cases {
            assert_eq!(visible(input), want, "{input:?}");
        }
        assert_eq!(visible_lines("one\ntwo\x1b[31m", true), "one\ntwo\\x1b[31m");
    }
}

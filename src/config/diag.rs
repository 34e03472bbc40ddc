//! Findings about the station's input: where (file:line:col, key, broadcast),
//! how bad (error or warning) and what (a catalogue [`Msg`]).
//!
//! It owns the finding's shape and order; it must not word it (that is
//! `i18n`'s) nor decide whether a station may run.

use crate::i18n::{word, Lang, Msg};
use std::ops::Range;

/// How serious a finding is: errors keep a file off air and make `check`
/// exit 2; warnings are shown and exit 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, with enough position to find it in a text editor.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Path as the operator sees it, relative to the station folder
    /// (`schedules/一封信.toml`), or `None` for station-wide findings.
    pub file: Option<String>,
    /// 1-based line and column (columns count characters, not bytes).
    pub line: Option<usize>,
    pub col: Option<usize>,
    /// The key the finding is about (`repeat`, `broadcast[2].at[1]`...).
    pub key: Option<String>,
    /// The broadcast the finding belongs to, when known.
    pub broadcast: Option<String>,
    pub msg: Msg,
}

impl Diagnostic {
    /// An error at no particular position.
    pub fn error(file: Option<String>, msg: Msg) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file,
            line: None,
            col: None,
            key: None,
            broadcast: None,
            msg,
        }
    }

    /// A warning at no particular position.
    pub fn warning(file: Option<String>, msg: Msg) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, msg)
        }
    }

    /// Sets the position from a line/column pair.
    pub fn at(mut self, pos: Option<(usize, usize)>) -> Self {
        if let Some((l, c)) = pos {
            self.line = Some(l);
            self.col = Some(c);
        }
        self
    }

    /// Names the broadcast this finding belongs to.
    pub fn in_broadcast(mut self, name: Option<&str>) -> Self {
        self.broadcast = name.map(str::to_string);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col: error: [broadcast] message` — the form editors and
    /// people both read.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        if let Some(f) = &self.file {
            out.push_str(f);
            if let Some(l) = self.line {
                out.push_str(&format!(":{l}"));
                if let Some(c) = self.col {
                    out.push_str(&format!(":{c}"));
                }
            }
            out.push_str(": ");
        }
        let sev = match self.severity {
            Severity::Error => word(lang, "error"),
            Severity::Warning => word(lang, "warning"),
        };
        out.push_str(sev);
        out.push_str(lang.pick("：", ": "));
        if let Some(b) = &self.broadcast {
            out.push_str(&format!("[{b}] "));
        }
        out.push_str(&self.msg.render(lang));
        out
    }

    /// Machine-readable form for `check --format json`.
    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        serde_json::json!({
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "key": self.key,
            "broadcast": self.broadcast,
            "message": self.msg.render(lang),
        })
    }
}

/// Orders findings the way a person reads them: by file, then position.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.line, a.col, a.severity).cmp(&(&b.file, b.line, b.col, b.severity))
    });
}

/// Maps byte offsets in a text to 1-based line and character column.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// Line and column of a byte offset (clamped to the text).
    pub fn pos(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Position of the start of a span.
    pub fn span(&self, span: &Range<usize>) -> (usize, usize) {
        self.pos(span.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_chars_not_bytes() {
        let t = "a = 1\nname = \"一封信\" x\n";
        let li = LineIndex::new(t);
        assert_eq!(li.pos(0), (1, 1));
        assert_eq!(li.pos(6), (2, 1));
        let x = t.find(" x").unwrap() + 1;
        assert_eq!(li.pos(x), (2, 14));
    }
}

//! Editing a schedule file's text for the operator's page: pausing or
//! enabling one `[[broadcast]]` and appending a new one. Text in, text
//! out, like the parser: it must not touch the disk (the web face writes
//! the result).
//!
//! Everything the edit does not change stays byte for byte: comments,
//! blank lines, key order, quoting. `toml_edit` only finds the spans; the
//! change is spliced into the text, so nothing is re-rendered. Every
//! result is parsed again with [`super::parse`] and refused if it has
//! more errors than the text it came from.
//!
//! A file with a TOML syntax error is refused (where its tables end is not
//! known); a file whose entries have schedule errors (a bad time, an
//! unknown key) is edited, since the change cannot add to them.

use super::{parse, parse_time, AudioPath, Days, Priority};
use std::ops::Range;
use toml_edit::{Item, Table};

/// Why an edit was not made. Nothing was changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The text is not TOML; the edit would be a guess.
    #[error("the file is not valid TOML (line {line}); fix it in a text editor first")]
    Syntax { line: usize },
    /// `broadcast` is written another way than `[[broadcast]]` tables.
    #[error("broadcasts are not written as [[broadcast]] tables")]
    NotTables,
    /// No `[[broadcast]]` at that position (counting from 0).
    #[error("there is no [[broadcast]] number {index}")]
    NoSuchEntry { index: usize },
    /// The entry at that position has another name (the file changed).
    #[error("[[broadcast]] number {index} is not named {name:?}")]
    NameMismatch { index: usize, name: String },
    /// The new broadcast's name is blank.
    #[error("the name is empty")]
    EmptyName,
    /// The file already has a broadcast of that name.
    #[error("a broadcast named {name:?} already exists")]
    DuplicateName { name: String },
    /// No audio file, or one outside the audio folder.
    #[error("bad audio file {value:?}")]
    BadPlay { value: String },
    /// No time given.
    #[error("no time given")]
    NoTimes,
    /// A time that is not HH:MM.
    #[error("bad time {value:?}")]
    BadTime { value: String },
    /// A day word the schedule language does not know.
    #[error("bad day {value:?}")]
    BadDay { value: String },
    /// The result would not parse as cleanly as the original.
    #[error("the edited file would have a new error: {detail}")]
    WouldBreak { detail: String },
}

/// A broadcast to append, as the operator's form gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBroadcast {
    pub name: String,
    /// Paths relative to the audio folder, played in sequence.
    pub play: Vec<String>,
    /// Local times, `HH:MM` or `HH:MM:SS`.
    pub at: Vec<String>,
    /// Day words (`mon`, `weekdays`, `周末`…); `None` = every day.
    pub days: Option<Vec<String>>,
    /// `None` = normal (the key is not written).
    pub priority: Option<Priority>,
}

/// A short fingerprint of a file's text (FNV-1a, 64 bits, and the
/// length): the operator's page sends it back with a form, so a file
/// changed since the page was drawn is not overwritten.
pub fn version(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}-{}", text.len())
}

/// The `[[broadcast]]` tables of a text, by position: each one's name
/// (`None` when it has no plain string name) and whether it says
/// `enabled = false`.
///
/// # Errors
/// When the text is not TOML, or `broadcast` is not an array of tables.
pub fn entries(text: &str) -> Result<Vec<(Option<String>, bool)>, EditError> {
    let doc = document(text)?;
    let Some(tables) = broadcast_tables(&doc)? else {
        return Ok(Vec::new());
    };
    Ok(tables
        .iter()
        .map(|t| {
            let name = t.get("name").and_then(Item::as_str).map(str::to_string);
            let enabled = t.get("enabled").and_then(Item::as_bool).unwrap_or(true);
            (name, enabled)
        })
        .collect())
}

/// Pauses (`enabled = false`) or enables the `index`th `[[broadcast]]`
/// (from 0), which must be named `name` when one is given.
///
/// Pausing writes `enabled = false`: over the value of an `enabled` key
/// already there (its comment stays), else as a new line after the
/// table's last key. Enabling writes `true` over an `enabled` key and
/// leaves a table without one as it is (enabled is the default), so
/// pausing and enabling again leaves `enabled = true` behind, which reads
/// plainly in the file.
///
/// # Errors
/// See [`EditError`]; the text is then unchanged.
pub fn set_enabled(
    text: &str,
    index: usize,
    name: Option<&str>,
    enabled: bool,
) -> Result<String, EditError> {
    let doc = document(text)?;
    let tables = broadcast_tables(&doc)?.ok_or(EditError::NoSuchEntry { index })?;
    let table = tables.get(index).ok_or(EditError::NoSuchEntry { index })?;
    if let Some(want) = name {
        let has = table.get("name").and_then(Item::as_str).map(str::trim);
        if has != Some(want.trim()) {
            return Err(EditError::NameMismatch {
                index,
                name: want.to_string(),
            });
        }
    }
    let word = if enabled { "true" } else { "false" };
    let out = match table.get("enabled").and_then(Item::as_value) {
        Some(v) => {
            let span = v.span().ok_or(EditError::NotTables)?;
            splice(text, span, word)
        }
        None if enabled => text.to_string(),
        None => {
            let end = last_end(table)
                .or_else(|| table.span().map(|s| s.end))
                .ok_or(EditError::NotTables)?;
            let at = line_end(text, end);
            let mut line = String::new();
            if !text[..at].ends_with('\n') {
                line.push_str(newline(text));
            }
            line.push_str("enabled = false");
            line.push_str(newline(text));
            splice(text, at..at, &line)
        }
    };
    no_new_errors(text, &out)?;
    Ok(out)
}

/// Appends a new `[[broadcast]]` table at the end of the text (a blank
/// line before it). The entry is checked first, so a refusal names the
/// wrong field.
///
/// # Errors
/// See [`EditError`]; the text is then unchanged.
pub fn add_broadcast(text: &str, b: &NewBroadcast) -> Result<String, EditError> {
    let name = b.name.trim();
    if name.is_empty() {
        return Err(EditError::EmptyName);
    }
    if b.play.is_empty() {
        return Err(EditError::BadPlay {
            value: String::new(),
        });
    }
    for p in &b.play {
        AudioPath::parse(p).map_err(|_| EditError::BadPlay { value: p.clone() })?;
    }
    if b.at.is_empty() {
        return Err(EditError::NoTimes);
    }
    for t in &b.at {
        parse_time(t).ok_or_else(|| EditError::BadTime { value: t.clone() })?;
    }
    for d in b.days.iter().flatten() {
        Days::parse_word(d).ok_or_else(|| EditError::BadDay { value: d.clone() })?;
    }
    document(text)?;
    if entries(text)?
        .iter()
        .any(|(n, _)| n.as_deref() == Some(name))
    {
        return Err(EditError::DuplicateName { name: name.into() });
    }
    let nl = newline(text);
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    if !out.is_empty() && !out.ends_with("\n\n") && !out.ends_with("\r\n\r\n") {
        out.push_str(nl);
    }
    let mut lines = vec![
        "[[broadcast]]".to_string(),
        format!("name = {}", quoted(name)),
        format!("play = {}", list(&b.play)),
        format!("at = {}", list(&b.at)),
    ];
    if let Some(days) = &b.days {
        lines.push(format!("days = {}", list(days)));
    }
    if let Some(p) = b.priority.filter(|p| *p != Priority::Normal) {
        lines.push(format!("priority = {}", quoted(p.as_str())));
    }
    for l in lines {
        out.push_str(&l);
        out.push_str(nl);
    }
    no_new_errors(text, &out)?;
    Ok(out)
}

fn document(text: &str) -> Result<toml_edit::Document<&str>, EditError> {
    toml_edit::Document::parse(text).map_err(|e| EditError::Syntax {
        line: e.span().map_or(1, |s| line_of(text, s.start)),
    })
}

/// The `[[broadcast]]` tables, `None` when there is no `broadcast` key.
fn broadcast_tables<'d>(
    doc: &'d toml_edit::Document<&str>,
) -> Result<Option<&'d toml_edit::ArrayOfTables>, EditError> {
    match doc.get("broadcast") {
        None => Ok(None),
        Some(Item::ArrayOfTables(a)) => Ok(Some(a)),
        Some(_) => Err(EditError::NotTables),
    }
}

/// Where the last value written in a table ends (dotted keys included).
fn last_end(t: &Table) -> Option<usize> {
    t.iter()
        .filter_map(|(_, item)| match item {
            Item::Value(v) => v.span().map(|s| s.end),
            Item::Table(sub) if sub.is_dotted() => last_end(sub),
            _ => None,
        })
        .max()
}

/// The offset just after the line holding `at` (its comment included).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The file's own line ending, so a Windows file stays one.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

fn splice(text: &str, span: Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..span.start]);
    out.push_str(with);
    out.push_str(&text[span.end..]);
    out
}

/// A TOML basic string, escaped by `toml_edit`.
fn quoted(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s.trim())).collect();
    format!("[{}]", inner.join(", "))
}

/// Refuses a result with more errors than the original text had.
fn no_new_errors(before: &str, after: &str) -> Result<(), EditError> {
    let errors = |t: &str| {
        parse("edit", t)
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .collect::<Vec<_>>()
    };
    let (old, new) = (errors(before), errors(after));
    if new.len() > old.len() {
        let first = new
            .iter()
            .find(|d| !old.iter().any(|o| o.msg == d.msg))
            .unwrap_or(&new[0]);
        return Err(EditError::WouldBreak {
            detail: first.render(crate::i18n::Lang::En),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;

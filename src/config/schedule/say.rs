//! The `say` key of a `[[broadcast]]` entry (文字广播): a notice typed as
//! text, read aloud by the PC instead of files. Text in, the validated
//! text and findings out: it must not run the speech engine (`check` asks
//! whether the engine is there; the daemon renders at air time).

use crate::config::tomlread::{get, Reader, Val};
use crate::i18n::Msg;
use toml::de::DeTable;

/// The longest notice, in characters (about four minutes read aloud).
pub const MAX_SAY_CHARS: usize = 1000;

/// A typed notice's text as a person gave it, cleaned: control
/// characters (an escape sequence pasted from a terminal) and invisible
/// ones (zero-width spaces, direction overrides, a BOM) left out, line
/// breaks kept, trimmed; not empty, at most [`MAX_SAY_CHARS`] characters.
///
/// # Errors
/// The message for an empty or too long text.
pub fn notice_text(raw: &str) -> Result<String, Msg> {
    let invisible = |c: char| matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
    let cleaned: String = raw
        .chars()
        .filter(|&c| (c == '\n' || !c.is_control()) && !invisible(c))
        .collect();
    let text = cleaned.trim();
    let chars = text.chars().count();
    if chars == 0 {
        Err(Msg::SayEmpty)
    } else if chars > MAX_SAY_CHARS {
        Err(Msg::SayTooLong {
            chars,
            max: MAX_SAY_CHARS,
        })
    } else {
        Ok(text.to_string())
    }
}

/// Reads `say` when the entry has it (`None` otherwise, or with the error
/// recorded); a `say` beside `play` or `relay` is an error.
pub(super) fn say(r: &mut Reader<'_>, table: &DeTable<'_>, _item: &Val<'_>) -> Option<String> {
    let v = get(table, "say")?;
    for key in ["play", "relay"] {
        if let Some(k) = get(table, key) {
            r.error(&k.span(), key, Msg::SayAndOther { key });
        }
    }
    let raw = r.text("say", v)?;
    match notice_text(&raw) {
        Ok(t) => Some(t),
        Err(m) => {
            r.error(&v.span(), "say", m);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::schedule::parse;
    use crate::i18n::Lang;

    #[test]
    fn a_notice_entry_needs_no_files() {
        let text = "[[broadcast]]\nname = \"停水通知\"\nsay = \"  今晚8点停水，请各户提前储水。 \"\nat = [\"18:00\"]\nrepeat = 2\ngap = \"5s\"\n";
        let p = parse("schedules/n.toml", text);
        assert!(p.is_valid(), "{:?}", p.diagnostics);
        let b = &p.broadcasts[0];
        assert_eq!(b.say.as_deref(), Some("今晚8点停水，请各户提前储水。"));
        assert!(b.play.is_empty());
        assert_eq!(b.repeat, 2);
        assert_eq!(b.audio_paths().count(), 0);
    }

    #[test]
    fn control_and_invisible_characters_are_left_out() {
        use super::notice_text;
        assert_eq!(
            notice_text("通知\u{1b}[31m红色\u{7}\r\n明天").unwrap(),
            "通知[31m红色\n明天"
        );
        assert_eq!(
            notice_text("\u{200b}\u{feff} \u{202e}"),
            Err(crate::i18n::Msg::SayEmpty)
        );
    }

    #[test]
    fn empty_long_and_mixed_notices_are_errors_with_their_line() {
        let long = "停".repeat(super::MAX_SAY_CHARS + 1);
        for (entry, key, zh) in [
            ("say = \"   \"", "say", "朗读的文字是空的"),
            (&format!("say = \"{long}\"")[..], "say", "太长"),
            ("say = \"通知\"\nplay = [\"a.mp3\"]", "play", "只能写一个"),
            (
                "say = \"通知\"\nrelay = \"line-in\"\nduration = \"1m\"",
                "relay",
                "只能写一个",
            ),
            ("say = 3", "say", "文字"),
        ] {
            let text = format!("[[broadcast]]\nname = \"n\"\nat = [\"08:00\"]\n{entry}\n");
            let p = parse("schedules/n.toml", &text);
            assert!(!p.is_valid(), "{entry}");
            let d = p
                .diagnostics
                .iter()
                .find(|d| d.key.as_deref() == Some(key))
                .unwrap_or_else(|| panic!("{entry}: {:?}", p.diagnostics));
            assert!(d.line.is_some_and(|l| l >= 4), "{entry}: line {:?}", d.line);
            let words = d.msg.render(Lang::Zh);
            assert!(words.contains(zh), "{entry}: {words}");
        }
    }
}

//! The operator-facing catalogue: every message a village operator reads, in
//! Simplified Chinese (default) and English, in one place. It owns words
//! only: it must not decide anything, and it imports nothing of the crate.
//!
//! Code elsewhere builds a [`Msg`] value carrying the facts (key, value, file);
//! only this folder turns it into words, so wording changes are one diff and
//! both languages stay in step. The catalogue is split by area: `reading`
//! (files, syntax, keys), `relay` (a relay's keys), `schedule` (broadcast
//! values, audio files), `speech` (a typed notice read aloud), `station`
//! (the station file), `run` (running, the event store), `warnings` (what
//! `check` foresees) and `words` (report words).

mod lang;
mod msg;
mod notice;
mod reading;
mod relay;
mod run;
mod schedule;
mod speech;
mod station;
mod warnings;
mod words;

pub use lang::Lang;
pub use msg::{Msg, Want};
pub use reading::found_type;
pub use words::{reason_text, show_duration, status_word, trigger_word, word};

impl Msg {
    /// The message in `lang`: what is wrong, then what to write instead.
    /// This match names every variant once, so a new one cannot be left
    /// without words; each area file writes its own.
    pub fn render(&self, lang: Lang) -> String {
        let mut s = String::new();
        match self {
            Msg::FileUnreadable { .. }
            | Msg::NotUtf8
            | Msg::TomlSyntax { .. }
            | Msg::NoBroadcasts
            | Msg::NoScheduleFiles { .. }
            | Msg::FolderMissing { .. }
            | Msg::UnknownKey { .. }
            | Msg::WrongType { .. }
            | Msg::MissingKey { .. }
            | Msg::EmptyValue { .. } => reading::render(self, lang, &mut s),
            Msg::EmptyName
            | Msg::DuplicateName { .. }
            | Msg::AtAndCron
            | Msg::NoTimes
            | Msg::BadTime { .. }
            | Msg::DuplicateTime { .. }
            | Msg::BadCron { .. }
            | Msg::BadDay { .. }
            | Msg::BadDate { .. }
            | Msg::UntilBeforeFrom { .. }
            | Msg::BadRepeat { .. }
            | Msg::BadDuration { .. }
            | Msg::BadPriority { .. }
            | Msg::BadVolume { .. }
            | Msg::PathAbsolute { .. }
            | Msg::PathEscapes { .. }
            | Msg::BadPlaceholder { .. }
            | Msg::FileMissing { .. }
            | Msg::FileOutside { .. }
            | Msg::NotRegularFile { .. }
            | Msg::NotAFile { .. }
            | Msg::FileEmpty { .. }
            | Msg::FileUndecodable { .. } => schedule::render(self, lang, &mut s),
            Msg::PlayAndRelay
            | Msg::BadRelaySource { .. }
            | Msg::RelayNeedsLength
            | Msg::RelayLengthTwice
            | Msg::RelayUntilNeedsOneTime
            | Msg::RelayUntilBeforeAt { .. }
            | Msg::RelayOnlyKey { .. }
            | Msg::NotForRelay { .. } => relay::render(self, lang, &mut s),
            Msg::SayAndOther { .. } | Msg::SayEmpty | Msg::SayTooLong { .. } => {
                notice::render(self, lang, &mut s)
            }
            Msg::SpeechEmpty
            | Msg::SpeechTooLong { .. }
            | Msg::SpeechEngineMissing { .. }
            | Msg::SpeechVoiceMissing { .. }
            | Msg::SpeechFailed { .. }
            | Msg::SpeechTimedOut { .. }
            | Msg::SpeechIo { .. }
            | Msg::SpeechBadOutput { .. } => speech::render(self, lang, &mut s),
            Msg::BadTimezone { .. }
            | Msg::BadQuietHours { .. }
            | Msg::BadOutput { .. }
            | Msg::BadListen { .. }
            | Msg::BadSetting { .. }
            | Msg::ListenNeedsToken { .. }
            | Msg::StationOnGoodCopy { .. }
            | Msg::DataFolderChanged { .. }
            | Msg::StationOnDefaults { .. } => station::render(self, lang, &mut s),
            Msg::StationFolderMissing { .. }
            | Msg::PlanDaysOutOfRange { .. }
            | Msg::ScheduleEmptied
            | Msg::SecondDaemonRefused
            | Msg::StoreLostStopping
            | Msg::StoreUnreadable
            | Msg::StoreDamaged => run::render(self, lang, &mut s),
            Msg::WarnCollisionMissed { .. }
            | Msg::WarnQuietHours { .. }
            | Msg::WarnRangeOver { .. }
            | Msg::WarnDateFileMissing { .. }
            | Msg::WarnFileMissingSoon { .. } => warnings::render(self, lang, &mut s),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every finding is routed to an area file that has words for it, in
    /// both languages (a wrong route would show the value's debug form).
    #[test]
    fn every_message_has_words_in_both_languages() {
        let all = [
            Msg::FileUnreadable { detail: "x".into() },
            Msg::NotUtf8,
            Msg::TomlSyntax { detail: "x".into() },
            Msg::NoBroadcasts,
            Msg::NoScheduleFiles { dir: "x".into() },
            Msg::FolderMissing {
                key: "z",
                dir: "x".into(),
            },
            Msg::UnknownKey {
                key: "x".into(),
                suggestion: Some("y".into()),
                allowed: vec!["a", "b"],
            },
            Msg::WrongType {
                key: "x".into(),
                want: Want::Text,
                found: "x".into(),
            },
            Msg::MissingKey {
                key: "z",
                example: "z",
            },
            Msg::EmptyValue { key: "x".into() },
            Msg::EmptyName,
            Msg::DuplicateName {
                name: "x".into(),
                first: "x".into(),
            },
            Msg::AtAndCron,
            Msg::NoTimes,
            Msg::PlayAndRelay,
            Msg::BadRelaySource { value: "x".into() },
            Msg::RelayNeedsLength,
            Msg::RelayLengthTwice,
            Msg::RelayUntilNeedsOneTime,
            Msg::RelayUntilBeforeAt {
                at: "x".into(),
                until: "y".into(),
            },
            Msg::RelayOnlyKey { key: "x" },
            Msg::NotForRelay { key: "x" },
            Msg::SayAndOther { key: "play" },
            Msg::SayEmpty,
            Msg::SayTooLong { chars: 2, max: 1 },
            Msg::BadTime { value: "x".into() },
            Msg::DuplicateTime { value: "x".into() },
            Msg::BadCron {
                value: "x".into(),
                detail: "x".into(),
            },
            Msg::BadDay {
                value: "x".into(),
                suggestion: Some("y".into()),
            },
            Msg::BadDate {
                key: "x".into(),
                value: "x".into(),
            },
            Msg::UntilBeforeFrom {
                from: "x".into(),
                until: "x".into(),
            },
            Msg::BadRepeat { value: 7 },
            Msg::BadDuration {
                key: "x".into(),
                value: "x".into(),
                max: "z",
            },
            Msg::BadPriority {
                value: "x".into(),
                suggestion: Some("y".into()),
            },
            Msg::BadVolume { value: "x".into() },
            Msg::PathAbsolute { path: "x".into() },
            Msg::PathEscapes { path: "x".into() },
            Msg::BadPlaceholder {
                path: "x".into(),
                placeholder: "x".into(),
            },
            Msg::FileMissing { path: "x".into() },
            Msg::NotAFile { path: "x".into() },
            Msg::NotRegularFile { path: "x".into() },
            Msg::FileOutside { path: "x".into() },
            Msg::FileEmpty { path: "x".into() },
            Msg::FileUndecodable {
                path: "x".into(),
                detail: "x".into(),
            },
            Msg::SpeechEmpty,
            Msg::SpeechTooLong { chars: 5, max: 1 },
            Msg::SpeechEngineMissing {
                program: "x".into(),
            },
            Msg::SpeechVoiceMissing { voice: "x".into() },
            Msg::SpeechFailed {
                status: "x".into(),
                detail: "x".into(),
            },
            Msg::SpeechTimedOut { secs: 3 },
            Msg::SpeechIo { detail: "x".into() },
            Msg::SpeechBadOutput { detail: "x".into() },
            Msg::BadTimezone {
                value: "x".into(),
                suggestion: Some("y".into()),
            },
            Msg::BadQuietHours { value: "x".into() },
            Msg::BadOutput { value: "x".into() },
            Msg::SecondDaemonRefused,
            Msg::ScheduleEmptied,
            Msg::StationFolderMissing { path: "x".into() },
            Msg::PlanDaysOutOfRange {
                value: "x".into(),
                max: 9,
            },
            Msg::StoreLostStopping,
            Msg::StoreUnreadable,
            Msg::StoreDamaged,
            Msg::BadListen { value: "x".into() },
            Msg::ListenNeedsToken { value: "x".into() },
            Msg::BadSetting {
                key: "x".into(),
                value: "x".into(),
                zh: "z",
                en: "z",
            },
            Msg::StationOnGoodCopy {
                copy: "x".into(),
                saved: "x".into(),
            },
            Msg::DataFolderChanged {
                running: "x".into(),
                configured: "x".into(),
            },
            Msg::StationOnDefaults {
                data: "x".into(),
                name: "x".into(),
                timezone: "x".into(),
            },
            Msg::WarnCollisionMissed {
                name: "x".into(),
                at: "x".into(),
                blocker: "x".into(),
                start: "x".into(),
                catch_up: "x".into(),
            },
            Msg::WarnQuietHours {
                name: "x".into(),
                time: "x".into(),
                quiet: "x".into(),
            },
            Msg::WarnRangeOver {
                name: "x".into(),
                until: "x".into(),
            },
            Msg::WarnDateFileMissing {
                name: "x".into(),
                dates: vec!["d".into()],
                path: "x".into(),
            },
            Msg::WarnFileMissingSoon {
                name: "x".into(),
                time: "x".into(),
                path: "x".into(),
            },
        ];
        for m in &all {
            for lang in [Lang::Zh, Lang::En] {
                let text = m.render(lang);
                assert!(!text.is_empty(), "{m:?} in {lang:?}");
                assert!(!text.starts_with(&format!("{m:?}")), "{m:?} in {lang:?}");
            }
        }
    }
}

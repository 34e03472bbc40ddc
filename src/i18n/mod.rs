//! The operator-facing catalogue: every message a village operator reads, in
//! Simplified Chinese (default) and English, in one place. It owns words
//! only: it must not decide anything, and it imports nothing of the crate.
//!
//! Code elsewhere builds a [`Msg`] value carrying the facts (key, value, file);
//! only this folder turns it into words, so wording changes are one diff and
//! both languages stay in step. The catalogue is split by area: [`reading`]
//! (files, syntax, keys), [`schedule`] (broadcast values, audio files),
//! [`station`] (the station file), [`run`] (running, the event store),
//! [`warnings`] (what `check` foresees) and [`words`] (report words).

mod lang;
mod msg;
mod reading;
mod run;
mod schedule;
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

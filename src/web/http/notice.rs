//! A typed notice read aloud for the web face, before the run loop is
//! asked (the loop then finds the file rendered): the rendering on the
//! blocking pool and what a person is told when it fails. It must not
//! ask the loop anything.

use super::error::ApiError;
use super::{blocking, AppState};
use crate::config::load::Station;
use crate::daemon::notice::{self, Notice};
use crate::i18n::Lang;
use crate::sound::speech::SpeechError;

/// Reads `text` aloud into the station's notice cache (a cache hit when
/// it was read before).
///
/// # Errors
/// Why it cannot be read aloud.
pub(super) async fn render_notice(
    st: &AppState,
    text: String,
) -> Result<Result<(), SpeechError>, ApiError> {
    let dir = st.station_dir.clone();
    blocking(st, move || {
        let station = Station::load(&dir);
        let n = Notice::new(notice::voice(&station.config), &station.data_dir());
        n.render(&text).map(|_| ())
    })
    .await
}

/// A notice that cannot be read aloud, for the API: what to do, in both
/// languages.
pub(super) fn refusal(e: &SpeechError) -> ApiError {
    let m = e.to_msg();
    ApiError::bad(m.render(Lang::En), m.render(Lang::Zh))
}

/// The result code a notice that cannot be read aloud takes back to the
/// page: the engine or voice missing (the technician must act), or
/// another failure.
pub(super) fn code_of(e: &SpeechError) -> &'static str {
    match e {
        SpeechError::EngineMissing { .. } | SpeechError::VoiceMissing { .. } => "say_engine",
        SpeechError::Empty => "say_empty",
        SpeechError::TooLong { .. } => "say_long",
        _ => "say_failed",
    }
}

/// The sentence for a refused notice's result code.
pub(super) fn flash_words(code: &str, lang: Lang) -> Option<&'static str> {
    Some(match code {
        "say_empty" => lang.pick(
            "请先写上要朗读的通知文字。",
            "Write the notice to read aloud first.",
        ),
        "say_long" => lang.pick(
            "通知太长（最多 1000 个字）：请分成几条，或录成音频文件上传。",
            "The notice is too long (at most 1000 characters): split it, or record it and upload the file.",
        ),
        "say_engine" => lang.pick(
            "广播电脑上没有朗读程序：请县里技术员安装 espeak-ng（apt-get install espeak-ng）。",
            "The PC has no text-to-speech program: ask the technician to install espeak-ng (apt-get install espeak-ng).",
        ),
        "say_failed" => lang.pick(
            "通知没能朗读出来：请看 cunxiang log 或稍后再试。",
            "The notice could not be read aloud: see cunxiang log, or try again.",
        ),
        _ => return None,
    })
}

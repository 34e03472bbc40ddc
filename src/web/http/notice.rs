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
/// Why it cannot be read aloud, in both languages.
pub(super) async fn render_notice(st: &AppState, text: String) -> Result<(), ApiError> {
    let dir = st.station_dir.clone();
    let rendered = blocking(st, move || {
        let station = Station::load(&dir);
        let n = Notice::new(notice::voice(&station.config), &station.data_dir());
        n.render(&text).map(|_| ())
    })
    .await?;
    rendered.map_err(|e| {
        let (en, zh) = speech_words(&e);
        ApiError::bad(en, zh)
    })
}

/// What a person is told when a notice cannot be read aloud.
pub(super) fn speech_words(e: &SpeechError) -> (String, String) {
    match e {
        SpeechError::EngineMissing { program } => (
            format!("the text-to-speech program {program} is missing: apt-get install espeak-ng"),
            format!("没有找到朗读程序 {program}：请安装（apt-get install espeak-ng）"),
        ),
        SpeechError::VoiceMissing { voice } => (
            format!("the voice {voice} is missing: check [speech] voice in cunxiang.toml"),
            format!("朗读程序没有 {voice} 这个声音：请检查 cunxiang.toml 的 [speech] voice"),
        ),
        other => (
            format!("the notice could not be read aloud: {other}"),
            format!("通知没能朗读出来：{other}"),
        ),
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

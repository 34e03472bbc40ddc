//! Messages about a typed notice read aloud (朗读): its text, the
//! text-to-speech program (espeak-ng) and its voice. Words only: the
//! engine lives in `sound::speech`.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

const INSTALL: &str = "apt-get install espeak-ng";

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    let _ = match (msg, lang) {
        (Msg::SpeechEmpty, Zh) => write!(w, "通知内容是空的：请输入要朗读的文字"),
        (Msg::SpeechEmpty, En) => write!(w, "the notice is empty; type the text to be read"),
        (Msg::SpeechTooLong { chars, max }, Zh) => write!(
            w,
            "通知太长：{chars} 个字，一次最多朗读 {max} 个字。请删短，或分成几条通知"
        ),
        (Msg::SpeechTooLong { chars, max }, En) => write!(
            w,
            "the notice is too long: {chars} characters, at most {max} are read at once; shorten it or split it into several notices"
        ),
        (Msg::SpeechEngineMissing { program }, Zh) => write!(
            w,
            "没有找到朗读程序 {program}：请安装 {INSTALL}（Windows 上请安装 eSpeak NG 并确认程序路径）"
        ),
        (Msg::SpeechEngineMissing { program }, En) => write!(
            w,
            "the text-to-speech program {program} is missing: {INSTALL} (on Windows, install eSpeak NG and check the program's path)"
        ),
        (Msg::SpeechVoiceMissing { voice }, Zh) => write!(
            w,
            "朗读程序没有普通话声音 `{voice}`：请重新安装 {INSTALL}，或把声音改为 cmn-latn-pinyin（用 espeak-ng --voices=cmn 查看）"
        ),
        (Msg::SpeechVoiceMissing { voice }, En) => write!(
            w,
            "the text-to-speech program has no voice `{voice}`: reinstall it ({INSTALL}) or set the voice to cmn-latn-pinyin (see espeak-ng --voices=cmn)"
        ),
        (Msg::SpeechFailed { status, detail }, Zh) => write!(
            w,
            "朗读程序出错（{status}）：{detail}。请再试一次；如果还不行，请重新安装 {INSTALL}"
        ),
        (Msg::SpeechFailed { status, detail }, En) => write!(
            w,
            "the text-to-speech program failed ({status}): {detail}; try again, and if it fails again reinstall it ({INSTALL})"
        ),
        (Msg::SpeechTimedOut { secs }, Zh) => write!(
            w,
            "朗读程序 {secs} 秒内没有完成，已停止。请把通知删短再试；电脑很忙时请稍后再试"
        ),
        (Msg::SpeechTimedOut { secs }, En) => write!(
            w,
            "the text-to-speech program did not finish within {secs} s and was stopped; shorten the notice, or try again when the PC is less busy"
        ),
        (Msg::SpeechIo { detail }, Zh) => write!(
            w,
            "朗读的声音文件无法保存：{detail}。请检查数据文件夹是否可写、磁盘是否已满"
        ),
        (Msg::SpeechIo { detail }, En) => write!(
            w,
            "the spoken notice cannot be saved: {detail}; check that the data folder is writable and the disk is not full"
        ),
        (Msg::SpeechBadOutput { detail }, Zh) => write!(
            w,
            "朗读程序生成的声音文件不能用：{detail}。请检查通知里是否有可以朗读的文字，再试一次"
        ),
        (Msg::SpeechBadOutput { detail }, En) => write!(
            w,
            "the text-to-speech program made no usable sound: {detail}; check the notice has words to read and try again"
        ),
        _ => Ok(()),
    };
}

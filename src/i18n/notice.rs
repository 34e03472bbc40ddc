//! Messages about a typed notice's text (文字广播: the `say` key, the
//! dashboard's text box, `cunxiang say`). Words only: the checks live in
//! `config::schedule::say`.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    let _ = match (msg, lang) {
        (Msg::SayAndOther { key }, Zh) => write!(
            w,
            "`say` 和 `{key}` 只能写一个：朗读文字用 say，播放文件用 play，转播用 relay。请删掉其中一个"
        ),
        (Msg::SayAndOther { key }, En) => write!(
            w,
            "give either `say` (a text read aloud) or `{key}`, not both; remove one"
        ),
        (Msg::SayEmpty, Zh) => write!(
            w,
            "朗读的文字是空的。请写上通知内容，例如 say = \"今晚8点停水，请各户提前储水。\""
        ),
        (Msg::SayEmpty, En) => write!(
            w,
            "the text to read aloud is empty; write the notice, like say = \"今晚8点停水，请各户提前储水。\""
        ),
        (Msg::SayTooLong { chars, max }, Zh) => write!(
            w,
            "朗读的文字太长：{chars} 个字，最多 {max} 个字。请分成几条通知，或录成音频文件播放"
        ),
        (Msg::SayTooLong { chars, max }, En) => write!(
            w,
            "the text to read aloud is too long: {chars} characters, at most {max}; split it into several notices, or record it as an audio file"
        ),
        (Msg::SayNoEngine { program }, Zh) => write!(
            w,
            "这条文字广播要用朗读程序 {program}，但广播电脑上没有找到它。请安装：apt-get install espeak-ng（或在 cunxiang.toml 的 [speech] engine 写对它的路径）"
        ),
        (Msg::SayNoEngine { program }, En) => write!(
            w,
            "this notice is read aloud by {program}, which is not on this PC; install it (apt-get install espeak-ng) or give its path as [speech] engine in cunxiang.toml"
        ),
        (Msg::SayNoVoice { voice }, Zh) => write!(
            w,
            "朗读程序没有 {voice} 这个声音。普通话请用 cmn-latn-pinyin（在 cunxiang.toml 的 [speech] voice）"
        ),
        (Msg::SayNoVoice { voice }, En) => write!(
            w,
            "the speech engine has no voice {voice}; for Mandarin use cmn-latn-pinyin ([speech] voice in cunxiang.toml)"
        ),
        (Msg::SayEngineFails { program, detail }, Zh) => write!(
            w,
            "朗读程序 {program} 不能正常工作（{detail}）。请重新安装：apt-get install --reinstall espeak-ng"
        ),
        (Msg::SayEngineFails { program, detail }, En) => write!(
            w,
            "the speech engine {program} does not work ({detail}); reinstall it: apt-get install --reinstall espeak-ng"
        ),
        _ => Ok(()),
    };
}

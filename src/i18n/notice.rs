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
        _ => Ok(()),
    };
}

//! Messages about a relay entry's keys (转播: `relay`, `duration`, an
//! `until` time, `fallback`). Words only: the checks live in
//! `config::schedule`.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

const EXAMPLE: &str = "relay = \"http://192.168.1.10:8000/county.mp3\"";

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    let _ = match (msg, lang) {
        (Msg::PlayAndRelay, Zh) => write!(
            w,
            "`play` 和 `relay` 只能写一个：播放文件用 play，转播直播用 relay。请删掉其中一个"
        ),
        (Msg::PlayAndRelay, En) => write!(
            w,
            "give either `play` (files) or `relay` (a live source), not both; remove one"
        ),
        (Msg::BadRelaySource { value }, Zh) => write!(
            w,
            "转播来源 `{value}` 无效。可以写 http:// 开头的直播流地址（如 {EXAMPLE}）、\"line-in\"（电脑的线路输入）或 \"line-in:设备名\"（用 `cunxiang devices` 查看名字）；不支持 https"
        ),
        (Msg::BadRelaySource { value }, En) => write!(
            w,
            "`{value}` is not a relay source; write an http:// stream address (like {EXAMPLE}), \"line-in\" (the PC's line input) or \"line-in:DEVICE\" (see `cunxiang devices`); https is not supported"
        ),
        (Msg::RelayNeedsLength, Zh) => write!(
            w,
            "转播要写明多长：duration = \"40m\"，或结束时间 until = \"10:40\"（只有一个 at 时间时）。到点就切断，不等直播流结束"
        ),
        (Msg::RelayNeedsLength, En) => write!(
            w,
            "a relay needs its length: duration = \"40m\", or an end time until = \"10:40\" (with a single `at` time); it is cut at the end, it does not wait for the stream to end"
        ),
        (Msg::RelayLengthTwice, Zh) => write!(
            w,
            "`duration` 和结束时间 `until` 只能写一个。请删掉其中一个"
        ),
        (Msg::RelayLengthTwice, En) => write!(
            w,
            "give either `duration` or an `until` time, not both; remove one"
        ),
        (Msg::RelayUntilNeedsOneTime, Zh) => write!(
            w,
            "结束时间 `until` 只能配一个 at 时间。有多个时间或用 cron 时，请改写 duration = \"40m\""
        ),
        (Msg::RelayUntilNeedsOneTime, En) => write!(
            w,
            "an `until` time goes with exactly one `at` time; with several times or a cron, write duration = \"40m\" instead"
        ),
        (Msg::RelayUntilBeforeAt { at, until }, Zh) => write!(
            w,
            "结束时间 {until} 不在开始时间 {at} 之后。请把 until 写在 at 之后（同一天内），或改写 duration"
        ),
        (Msg::RelayUntilBeforeAt { at, until }, En) => write!(
            w,
            "the end time {until} is not after the start {at}; write an `until` later the same day, or a duration"
        ),
        (Msg::RelayOnlyKey { key }, Zh) => write!(
            w,
            "`{key}` 只用于转播节目。请加上 {EXAMPLE}，或删掉 `{key}`"
        ),
        (Msg::RelayOnlyKey { key }, En) => write!(
            w,
            "`{key}` belongs to a relay; add {EXAMPLE} or remove `{key}`"
        ),
        (Msg::NotForRelay { key }, Zh) => write!(
            w,
            "转播节目不能写 `{key}`（直播只播一遍，按 duration 到点结束）。请删掉 `{key}`"
        ),
        (Msg::NotForRelay { key }, En) => write!(
            w,
            "a relay has no `{key}` (it goes out once, until the end of its slot); remove `{key}`"
        ),
        _ => Ok(()),
    };
}

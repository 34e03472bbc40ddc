//! Warnings `check` gives about what will happen on air (collisions,
//! quiet hours, finished ranges, daily files not uploaded). Words only: the
//! simulation that finds them is the planner's.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    match (msg, lang) {
        (
            Msg::WarnCollisionMissed {
                name,
                at,
                blocker,
                start,
                catch_up,
            },
            Zh,
        ) => {
            let _ = write!(w, "`{name}` 在 {at} 与 `{blocker}` 冲突：要等到 {start} 才能开始，超过补播窗口 {catch_up}，将被漏播。请错开播出时间，或调整优先级 / catch_up");
        }
        (
            Msg::WarnCollisionMissed {
                name,
                at,
                blocker,
                start,
                catch_up,
            },
            En,
        ) => {
            let _ = write!(w, "`{name}` at {at} collides with `{blocker}`: it could not start before {start}, past its catch-up window of {catch_up}, so it would be missed; move one of them, or change priority / catch_up");
        }
        (Msg::WarnQuietHours { name, time, quiet }, Zh) => {
            let _ = write!(w, "`{name}` 的播出时间 {time} 在静音时段 {quiet} 内，普通节目届时不会播出。请改时间，或紧急节目设 priority = \"emergency\"");
        }
        (Msg::WarnQuietHours { name, time, quiet }, En) => {
            let _ = write!(w, "`{name}` airs at {time}, inside the quiet hours {quiet}, so it will be skipped; move it, or mark a real emergency priority = \"emergency\"");
        }
        (Msg::WarnRangeOver { name, until }, Zh) => {
            let _ = write!(w, "`{name}` 的结束日期 {until} 已经过去，不会再播出。如不再需要可删除；需要继续播请改 until");
        }
        (Msg::WarnRangeOver { name, until }, En) => {
            let _ = write!(w, "`{name}` ended on {until} and will not play again; delete it, or move `until` to keep it on air");
        }
        (Msg::WarnDateFileMissing { name, dates, path }, Zh) => {
            let _ = write!(w, "`{name}` 需要的每日文件 `{path}` 在这些日期还没有：{}。请在播出前上传到 audio 文件夹", dates.join("、"));
        }
        (Msg::WarnFileMissingSoon { name, time, path }, Zh) => {
            let _ = write!(w, "`{name}` 将在 {time} 播出，但文件 `{path}` 还没有。请尽快上传到 audio 文件夹，否则这次会播出失败");
        }
        (Msg::WarnFileMissingSoon { name, time, path }, En) => {
            let _ = write!(w, "`{name}` airs at {time} but `{path}` is not there; upload it to the audio folder now or that play will fail");
        }
        (Msg::WarnDateFileMissing { name, dates, path }, En) => {
            let _ = write!(w, "`{name}` needs the daily file `{path}` and it is not there yet for {}; upload it to the audio folder before air time", dates.join(", "));
        }
        (other, _) => {
            debug_assert!(false, "{other:?} routed to the wrong area");
            let _ = write!(w, "{other:?}");
        }
    }
}

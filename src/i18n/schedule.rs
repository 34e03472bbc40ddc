//! Messages about a broadcast's values and its audio files (times, days,
//! dates, durations, priority, paths). Words only: the checks that find
//! these live in `config` and `sound`.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    match (msg, lang) {
        (Msg::EmptyName, Zh) => {
            let _ = write!(
                w,
                "节目名称 `name` 不能为空。请写上节目名称，如 name = \"致广大市民朋友的一封信\""
            );
        }
        (Msg::EmptyName, En) => {
            let _ = write!(w, "`name` must not be empty; write the broadcast's title, like name = \"Open letter\"");
        }
        (Msg::DuplicateName { name, first }, Zh) => {
            let _ = write!(
                w,
                "节目名称 `{name}` 重复，已在 {first} 用过。每个节目名称必须唯一，请改一个名字"
            );
        }
        (Msg::DuplicateName { name, first }, En) => {
            let _ = write!(w, "the broadcast name `{name}` is already used at {first}; every name must be unique, rename one of them");
        }
        (Msg::AtAndCron, Zh) => {
            let _ = write!(
                w,
                "`at` 和 `cron` 只能写一个。固定时间请用 at = [\"07:30\"]，复杂规则才用 cron"
            );
        }
        (Msg::AtAndCron, En) => {
            let _ = write!(w, "give either `at` or `cron`, not both; use at = [\"07:30\"] for fixed times, cron only for complex rules");
        }
        (Msg::NoTimes, Zh) => {
            let _ = write!(
                w,
                "没有写播出时间。请添加 at = [\"07:30\", \"12:00\"]，或 cron = \"30 7 * * 1-5\""
            );
        }
        (Msg::NoTimes, En) => {
            let _ = write!(
                w,
                "no air time given; add at = [\"07:30\", \"12:00\"] or cron = \"30 7 * * 1-5\""
            );
        }
        (Msg::BadTime { value }, Zh) => {
            let _ = write!(w, "时间 `{value}` 无效。请用 24 小时制写成 \"时:分\" 或 \"时:分:秒\"，如 \"07:30\"、\"18:30:15\"");
        }
        (Msg::BadTime { value }, En) => {
            let _ = write!(w, "`{value}` is not a valid time; write 24-hour \"HH:MM\" or \"HH:MM:SS\", like \"07:30\" or \"18:30:15\"");
        }
        (Msg::DuplicateTime { value }, Zh) => {
            let _ = write!(w, "时间 `{value}` 写了两次。请删除重复的一项");
        }
        (Msg::DuplicateTime { value }, En) => {
            let _ = write!(
                w,
                "the time `{value}` is listed twice; remove the duplicate"
            );
        }
        (Msg::BadCron { value, detail }, Zh) => {
            let _ = write!(w, "cron 表达式 `{value}` 无效（{detail}）。格式是“分 时 日 月 星期”五项，如 \"30 7 * * 1-5\" 表示周一到周五 07:30");
        }
        (Msg::BadCron { value, detail }, En) => {
            let _ = write!(w, "the cron expression `{value}` is invalid ({detail}); write five fields \"minute hour day month weekday\", like \"30 7 * * 1-5\" for 07:30 Monday to Friday");
        }
        (Msg::BadDay { value, suggestion }, Zh) => {
            let _ = write!(w, "星期 `{value}` 无效。");
            if let Some(s) = suggestion {
                let _ = write!(w, "你是不是想写 `{s}`？");
            }
            let _ = write!(w, "可以写 mon tue wed thu fri sat sun、周一…周日、weekdays（工作日）或 weekends（周末）");
        }
        (Msg::BadDay { value, suggestion }, En) => {
            let _ = write!(w, "`{value}` is not a day of the week; ");
            if let Some(s) = suggestion {
                let _ = write!(w, "did you mean `{s}`? ");
            }
            let _ = write!(w, "write mon tue wed thu fri sat sun, weekdays or weekends");
        }
        (Msg::BadDate { key, value }, Zh) => {
            let _ = write!(w, "`{key}` 的日期 `{value}` 无效。请写成 年-月-日，如 {key} = 2026-12-01（不加引号、不带时间）");
        }
        (Msg::BadDate { key, value }, En) => {
            let _ = write!(w, "`{key}` = `{value}` is not a valid date; write year-month-day, like {key} = 2026-12-01 (no quotes, no time)");
        }
        (Msg::UntilBeforeFrom { from, until }, Zh) => {
            let _ = write!(w, "结束日期 until = {until} 早于开始日期 from = {from}，这个节目一次也不会播。请检查两个日期");
        }
        (Msg::UntilBeforeFrom { from, until }, En) => {
            let _ = write!(w, "until = {until} is before from = {from}, so the broadcast would never play; check both dates");
        }
        (Msg::BadRepeat { value }, Zh) => {
            let _ = write!(
                w,
                "重复次数 repeat = {value} 无效。请写 1 到 100 之间的整数，如 repeat = 3"
            );
        }
        (Msg::BadRepeat { value }, En) => {
            let _ = write!(w, "repeat = {value} is out of range; write a whole number from 1 to 100, like repeat = 3");
        }
        (Msg::BadDuration { key, value, max }, Zh) => {
            let _ = write!(w, "`{key}` 的时长 `{value}` 无效。请写成如 \"20s\"（秒）、\"10m\"（分钟）、\"1h\"（小时），最长 {max}");
        }
        (Msg::BadDuration { key, value, max }, En) => {
            let _ = write!(w, "`{key}` = `{value}` is not a valid duration; write e.g. \"20s\", \"10m\" or \"1h\", at most {max}");
        }
        (Msg::BadPriority { value, suggestion }, Zh) => {
            let _ = write!(w, "优先级 `{value}` 无效。");
            if let Some(s) = suggestion {
                let _ = write!(w, "你是不是想写 `{s}`？");
            }
            let _ = write!(
                w,
                "可以写 \"normal\"（普通）、\"important\"（重要）或 \"emergency\"（紧急）"
            );
        }
        (Msg::BadPriority { value, suggestion }, En) => {
            let _ = write!(w, "`{value}` is not a priority; ");
            if let Some(s) = suggestion {
                let _ = write!(w, "did you mean `{s}`? ");
            }
            let _ = write!(w, "write \"normal\", \"important\" or \"emergency\"");
        }
        (Msg::BadVolume { value }, Zh) => {
            let _ = write!(
                w,
                "音量 volume = {value} 无效。请写 0 到 1 之间的数字，1 为原始音量，如 volume = 0.8"
            );
        }
        (Msg::BadVolume { value }, En) => {
            let _ = write!(w, "volume = {value} is out of range; write a number from 0 to 1 (1 = the file's own level), like volume = 0.8");
        }
        (Msg::PathAbsolute { path }, Zh) => {
            let _ = write!(w, "`{path}` 是绝对路径。只能播放 audio 文件夹里的文件，请写相对 audio 文件夹的路径，如 \"一封信.mp3\"");
        }
        (Msg::PathAbsolute { path }, En) => {
            let _ = write!(w, "`{path}` is an absolute path; only files under the audio folder can play, write a path relative to it, like \"letter.mp3\"");
        }
        (Msg::PathEscapes { path }, Zh) => {
            let _ = write!(w, "`{path}` 指向 audio 文件夹之外。只能播放 audio 文件夹里的文件，请把文件复制进去并去掉 `..`");
        }
        (Msg::PathEscapes { path }, En) => {
            let _ = write!(w, "`{path}` points outside the audio folder; only files under it can play, copy the file there and drop the `..`");
        }
        (Msg::BadPlaceholder { path, placeholder }, Zh) => {
            let _ = write!(w, "`{path}` 里的 `{placeholder}` 无法识别。文件名里只能用 {{date}}（播出当天的日期，如 2026-12-01）");
        }
        (Msg::BadPlaceholder { path, placeholder }, En) => {
            let _ = write!(w, "`{placeholder}` in `{path}` is not known; the only placeholder is {{date}} (the day it plays, like 2026-12-01)");
        }
        (Msg::FileMissing { path }, Zh) => {
            let _ = write!(w, "音频文件 `{path}` 不存在。请把文件复制到 audio 文件夹，或改正文件名（注意大小写和扩展名）");
        }
        (Msg::FileMissing { path }, En) => {
            let _ = write!(w, "the audio file `{path}` does not exist; copy it into the audio folder or correct the name (mind case and extension)");
        }
        (Msg::FileOutside { path }, Zh) => {
            let _ = write!(w, "音频文件 `{path}` 是一个指向 audio 文件夹之外的链接，不会播出。请把真正的文件复制到 audio 文件夹里");
        }
        (Msg::FileOutside { path }, En) => {
            let _ = write!(w, "the audio file `{path}` is a link that leads outside the audio folder, so it is not played; copy the real file into the audio folder");
        }
        (Msg::NotRegularFile { path }, Zh) => {
            let _ = write!(
                w,
                "`{path}` 不是普通文件（是管道或设备），不能当音频播放。请换成导出的音频文件"
            );
        }
        (Msg::NotRegularFile { path }, En) => {
            let _ = write!(w, "`{path}` is not a regular file (a pipe or a device) and cannot play as audio; put an exported audio file there");
        }
        (Msg::NotAFile { path }, Zh) => {
            let _ = write!(
                w,
                "`{path}` 是文件夹，不是音频文件。请写出文件夹里的具体文件名"
            );
        }
        (Msg::NotAFile { path }, En) => {
            let _ = write!(
                w,
                "`{path}` is a folder, not an audio file; name the file inside it"
            );
        }
        (Msg::FileEmpty { path }, Zh) => {
            let _ = write!(
                w,
                "音频文件 `{path}` 是空的（0 字节）。请重新复制或重新录制这个文件"
            );
        }
        (Msg::FileEmpty { path }, En) => {
            let _ = write!(
                w,
                "the audio file `{path}` is empty (0 bytes); copy or record it again"
            );
        }
        (Msg::FileUndecodable { path, detail }, Zh) => {
            let _ = write!(w, "音频文件 `{path}` 无法解码（{detail}）。请确认它是完整的 MP3/WAV/FLAC/OGG 文件，可用手机或电脑重新导出为 MP3");
        }
        (Msg::FileUndecodable { path, detail }, En) => {
            let _ = write!(w, "the audio file `{path}` cannot be decoded ({detail}); make sure it is a complete MP3/WAV/FLAC/OGG file, or export it again as MP3");
        }
        (other, _) => {
            debug_assert!(false, "{other:?} routed to the wrong area");
            let _ = write!(w, "{other:?}");
        }
    }
}

//! The sentences for the schedule forms' result codes
//! (`web::http::schedules`), Chinese and English, each quoting the name
//! or file the code is about. Kept apart from the handlers so the page's
//! `flash` (`forms`) can use them without the two importing each other.

use crate::i18n::Lang;

/// The sentence for a schedule form's result code (`ok` or `err`), with
/// the name or file it quotes; `None` for a code that is not one.
pub(super) fn sentence(lang: Lang, key: &str, code: &str, s: &str) -> Option<String> {
    let zh = lang == Lang::Zh;
    let pick = |z: String, e: String| Some(if zh { z } else { e });
    match (key, code) {
        ("ok", "paused") => pick(format!("已暂停「{s}」，节目单文件已保存。"), format!("Paused \"{s}\"; the schedule file is saved.")),
        ("ok", "enabled") => pick(format!("已启用「{s}」，节目单文件已保存。"), format!("Enabled \"{s}\"; the schedule file is saved.")),
        ("ok", "added") => pick(format!("已把「{s}」加入节目单，几秒内生效。"), format!("Added \"{s}\" to the schedule; it takes effect within seconds.")),
        ("err", "stale") => pick(format!("「{s}」在页面打开后被改过了，没有保存。请刷新页面再试。"), format!("\"{s}\" changed since this page was shown; nothing was saved. Reload the page and try again.")),
        ("err", "nofile") => pick(format!("「{s}」不是节目单文件夹里的节目单文件，不能修改。"), format!("\"{s}\" is not a schedule file in the schedules folder; it cannot be changed.")),
        ("err", "syntax") => pick(format!("{s} 有格式错误，页面不能安全地修改这个文件。请先用文本编辑器改正（cunxiang check 会指出原因）。"), format!("{s} has a syntax error; the page cannot change this file safely. Fix it in a text editor first (cunxiang check says why).")),
        ("err", "notables") => pick(format!("「{s}」里的节目不是用 [[broadcast]] 写的，页面不能修改，请用文本编辑器。"), format!("\"{s}\" does not write its broadcasts as [[broadcast]] tables; use a text editor.")),
        ("err", "noname") => pick("请填写节目名。".into(), "Give the broadcast a name.".into()),
        ("err", "dupname") => pick(format!("已经有叫「{s}」的节目了，节目名不能重复，请换一个。"), format!("A broadcast named \"{s}\" exists already; choose another name.")),
        ("err", "noaudio") => pick(format!("音频文件夹里没有「{s}」。请先把文件放进 audio 文件夹，或从音频库里选。"), format!("There is no \"{s}\" in the audio folder. Put the file there first, or pick one from the library.")),
        ("err", "badplay") => pick(format!("「{s}」不是音频文件夹里的文件路径。"), format!("\"{s}\" is not a path inside the audio folder.")),
        ("err", "notime") => pick("请填写播出时间，例如 07:30。".into(), "Give a time, e.g. 07:30.".into()),
        ("err", "badtime") => pick(format!("时间「{s}」不对：请写 24 小时制的 时:分，例如 07:30；几个时间用空格或逗号隔开。"), format!("\"{s}\" is not a time: write HH:MM on the 24-hour clock, e.g. 07:30; separate several with spaces or commas.")),
        ("err", "badday") => pick(format!("日期「{s}」看不懂：可选 每天、工作日、周末，或写 周一 周三 这样的列表。"), format!("\"{s}\" is not a day: choose every day, weekdays, weekends, or list days like mon wed.")),
        ("err", "badprio") => pick(format!("优先级「{s}」不对：只能是 普通、重要、紧急。"), format!("\"{s}\" is not a priority: normal, important or emergency.")),
        ("err", "badnewfile") => pick(format!("新文件名「{s}」不行：请写成 名字.toml，不带文件夹。"), format!("\"{s}\" cannot be a new file name: write name.toml, without a folder.")),
        ("err", "badform") => pick(format!("表单不完整，「{s}」没有改动。请刷新页面再试。"), format!("The form was incomplete; \"{s}\" is unchanged. Reload the page and try again.")),
        ("err", "unreadable") => pick(format!("读不了「{s}」（不是 UTF-8 文本，或没有权限），没有改动。"), format!("\"{s}\" cannot be read (not UTF-8 text, or no permission); nothing changed.")),
        ("err", "writefail") => pick(format!("「{s}」没能保存（磁盘满了或没有写权限？），文件没有改动。"), format!("\"{s}\" could not be saved (disk full or no permission?); the file is unchanged.")),
        ("err", "wouldbreak") => pick(format!("这样改会让「{s}」出现新的错误，没有保存。"), format!("This change would add an error to \"{s}\"; nothing was saved.")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_both_sentences() {
        for code in ["paused", "enabled", "added"] {
            assert!(sentence(Lang::Zh, "ok", code, "x").is_some());
            assert!(sentence(Lang::En, "ok", code, "x").is_some());
        }
        for code in [
            "stale",
            "nofile",
            "syntax",
            "notables",
            "noname",
            "dupname",
            "noaudio",
            "badplay",
            "notime",
            "badtime",
            "badday",
            "badprio",
            "badnewfile",
            "badform",
            "unreadable",
            "writefail",
            "wouldbreak",
        ] {
            let zh = sentence(Lang::Zh, "err", code, "x").unwrap();
            let en = sentence(Lang::En, "err", code, "x").unwrap();
            assert_ne!(zh, en, "{code}");
        }
        assert!(sentence(Lang::Zh, "err", "made-up", "x").is_none());
    }
}

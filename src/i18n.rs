//! The operator-facing catalogue: every message a village operator reads, in
//! Simplified Chinese (default) and English, in one place.
//!
//! Code elsewhere builds a [`Msg`] value carrying the facts (key, value, file);
//! only this module turns it into words, so wording changes are one diff and
//! both languages stay in step.

use std::fmt::Write as _;

/// The language operator-facing text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese, the default: operators read Chinese.
    #[default]
    Zh,
    /// English, for technicians and developers who ask for it.
    En,
}

impl Lang {
    /// Parses a `--lang` value (`zh`, `zh-CN`, `en`, `en_US.UTF-8`, ...).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("en") {
            Some(Lang::En)
        } else if s.starts_with("zh") || s.starts_with("cn") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    /// Picks the language from an explicit choice, else from the locale
    /// variables (`LC_ALL`, `LC_MESSAGES`, `LANG`): English only when the
    /// locale says English, Chinese otherwise (a `C` locale included).
    pub fn detect(explicit: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Lang {
        if let Some(l) = explicit.and_then(Lang::parse) {
            return l;
        }
        for var in ["CUNXIANG_LANG", "LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                return if v.to_ascii_lowercase().starts_with("en") {
                    Lang::En
                } else {
                    Lang::Zh
                };
            }
        }
        Lang::Zh
    }

    /// Picks one of two texts.
    /// `zh` or `en`, as in `?lang=`.
    pub fn code(self) -> &'static str {
        self.pick("zh", "en")
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// What kind of value a key wants; named in "wrong type" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Text,
    Integer,
    Number,
    Bool,
    Date,
    TextList,
    TextOrList,
    BoolOrText,
    DurationText,
    Table,
    TableList,
    DateList,
}

impl Want {
    fn describe(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Want::Text, Lang::Zh) => "文字（用英文双引号括起来，如 \"文字\"）",
            (Want::Text, Lang::En) => "a text in double quotes, like \"text\"",
            (Want::Integer, Lang::Zh) => "整数（不加引号，如 3）",
            (Want::Integer, Lang::En) => "a whole number without quotes, like 3",
            (Want::Number, Lang::Zh) => "数字（不加引号，如 0.8）",
            (Want::Number, Lang::En) => "a number without quotes, like 0.8",
            (Want::Bool, Lang::Zh) => "true 或 false（不加引号）",
            (Want::Bool, Lang::En) => "true or false, without quotes",
            (Want::Date, Lang::Zh) => "日期（如 2026-12-01）",
            (Want::Date, Lang::En) => "a date, like 2026-12-01",
            (Want::TextList, Lang::Zh) => "文字列表（如 [\"07:30\", \"12:00\"]）",
            (Want::TextList, Lang::En) => "a list of texts, like [\"07:30\", \"12:00\"]",
            (Want::TextOrList, Lang::Zh) => {
                "文字或文字列表（如 \"一封信.mp3\" 或 [\"a.mp3\", \"b.mp3\"]）"
            }
            (Want::TextOrList, Lang::En) => {
                "a text or a list of texts, like \"letter.mp3\" or [\"a.mp3\", \"b.mp3\"]"
            }
            (Want::BoolOrText, Lang::Zh) => "true、false 或提示音文件名（如 \"提示音.mp3\"）",
            (Want::BoolOrText, Lang::En) => "true, false or a chime file name, like \"chime.mp3\"",
            (Want::DurationText, Lang::Zh) => "时长文字（如 \"20s\"、\"10m\"、\"1h\"）",
            (Want::DurationText, Lang::En) => "a duration text, like \"20s\", \"10m\" or \"1h\"",
            (Want::Table, Lang::Zh) => "表（如 [output] 段落）",
            (Want::Table, Lang::En) => "a table (a [section])",
            (Want::TableList, Lang::Zh) => "[[broadcast]] 段落",
            (Want::TableList, Lang::En) => "[[broadcast]] sections",
            (Want::DateList, Lang::Zh) => "日期列表（如 [2026-10-01, 2026-10-02]）",
            (Want::DateList, Lang::En) => "a list of dates, like [2026-10-01, 2026-10-02]",
        }
    }
}

/// The TOML type actually found, for "wrong type" messages.
pub fn found_type(lang: Lang, toml_type: &str) -> &'static str {
    match (toml_type, lang) {
        ("string", Lang::Zh) => "文字",
        ("string", Lang::En) => "a text",
        ("integer", Lang::Zh) => "整数",
        ("integer", Lang::En) => "a whole number",
        ("float", Lang::Zh) => "小数",
        ("float", Lang::En) => "a decimal number",
        ("boolean", Lang::Zh) => "true/false",
        ("boolean", Lang::En) => "true/false",
        ("datetime", Lang::Zh) => "日期时间",
        ("datetime", Lang::En) => "a date/time",
        ("array", Lang::Zh) => "列表",
        ("array", Lang::En) => "a list",
        ("table", Lang::Zh) => "表",
        ("table", Lang::En) => "a table",
        (_, Lang::Zh) => "其他类型",
        (_, Lang::En) => "another type",
    }
}

/// Every operator-facing finding. Fields carry the facts; [`Msg::render`]
/// writes them out in the chosen language, always with what to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    // --- files and syntax ---
    FileUnreadable {
        detail: String,
    },
    NotUtf8,
    TomlSyntax {
        detail: String,
    },
    NoBroadcasts,
    NoScheduleFiles {
        dir: String,
    },
    FolderMissing {
        key: &'static str,
        dir: String,
    },

    // --- keys and types ---
    UnknownKey {
        key: String,
        suggestion: Option<String>,
        allowed: Vec<&'static str>,
    },
    WrongType {
        key: String,
        want: Want,
        found: String,
    },
    MissingKey {
        key: &'static str,
        example: &'static str,
    },
    EmptyValue {
        key: String,
    },

    // --- broadcast values ---
    EmptyName,
    DuplicateName {
        name: String,
        first: String,
    },
    AtAndCron,
    NoTimes,
    BadTime {
        value: String,
    },
    DuplicateTime {
        value: String,
    },
    BadCron {
        value: String,
        detail: String,
    },
    BadDay {
        value: String,
        suggestion: Option<String>,
    },
    BadDate {
        key: String,
        value: String,
    },
    UntilBeforeFrom {
        from: String,
        until: String,
    },
    BadRepeat {
        value: i64,
    },
    BadDuration {
        key: String,
        value: String,
        max: &'static str,
    },
    BadPriority {
        value: String,
        suggestion: Option<String>,
    },
    BadVolume {
        value: String,
    },

    // --- audio files ---
    PathAbsolute {
        path: String,
    },
    PathEscapes {
        path: String,
    },
    BadPlaceholder {
        path: String,
        placeholder: String,
    },
    FileMissing {
        path: String,
    },
    NotAFile {
        path: String,
    },
    /// A pipe, socket or device where an audio file should be.
    NotRegularFile {
        path: String,
    },
    /// A link in the audio folder leading out of it.
    FileOutside {
        path: String,
    },
    FileEmpty {
        path: String,
    },
    FileUndecodable {
        path: String,
        detail: String,
    },

    // --- station file ---
    BadTimezone {
        value: String,
        suggestion: Option<String>,
    },
    BadQuietHours {
        value: String,
    },
    BadOutput {
        value: String,
    },
    /// `run` while another daemon holds the station's lock.
    SecondDaemonRefused,
    /// A schedule file emptied of every broadcast (a save cut short?).
    ScheduleEmptied,
    /// `--station` (or CUNXIANG_STATION) names no folder.
    StationFolderMissing {
        path: String,
    },
    /// `plan --days` outside 1..=max.
    PlanDaysOutOfRange {
        value: String,
        max: u32,
    },
    /// The event store cannot be written: the daemon stops.
    StoreLostStopping,
    /// The event store cannot be read: nothing can be shown.
    StoreUnreadable,
    /// The database file is not a database, or broken inside.
    StoreDamaged,
    BadListen {
        value: String,
    },
    /// Listening beyond this machine without a token.
    ListenNeedsToken {
        value: String,
    },
    /// A setting with a value it cannot take, and how to write it.
    BadSetting {
        key: String,
        value: String,
        zh: &'static str,
        en: &'static str,
    },

    // --- warnings ---
    /// The station file is broken: the station runs on its last good copy.
    StationOnGoodCopy {
        copy: String,
        saved: String,
    },
    /// `[folders] data` was edited while the daemon runs: it keeps its
    /// data folder until restarted.
    DataFolderChanged {
        running: String,
        configured: String,
    },
    /// The station file is broken and no good copy exists: defaults.
    StationOnDefaults {
        data: String,
        name: String,
        timezone: String,
    },
    WarnCollisionMissed {
        name: String,
        at: String,
        blocker: String,
        start: String,
        catch_up: String,
    },
    WarnQuietHours {
        name: String,
        time: String,
        quiet: String,
    },
    WarnRangeOver {
        name: String,
        until: String,
    },
    WarnDateFileMissing {
        name: String,
        dates: Vec<String>,
        path: String,
    },
    WarnFileMissingSoon {
        name: String,
        time: String,
        path: String,
    },
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Msg {
    /// The message in `lang`: what is wrong, then what to write instead.
    pub fn render(&self, lang: Lang) -> String {
        use Lang::*;
        let mut s = String::new();
        let w = &mut s;
        match (self, lang) {
            (Msg::FileUnreadable { detail }, Zh) => {
                let _ = write!(
                    w,
                    "无法读取文件：{detail}。请检查文件是否存在、是否有读取权限"
                );
            }
            (Msg::FileUnreadable { detail }, En) => {
                let _ = write!(
                    w,
                    "cannot read the file: {detail}; check that it exists and is readable"
                );
            }
            (Msg::NotUtf8, Zh) => {
                let _ = write!(
                    w,
                    "文件不是 UTF-8 编码。请用记事本“另存为”并选择 UTF-8 编码"
                );
            }
            (Msg::NotUtf8, En) => {
                let _ = write!(
                    w,
                    "the file is not UTF-8 text; save it again with UTF-8 encoding"
                );
            }
            (Msg::TomlSyntax { detail }, Zh) => {
                let _ = write!(
                    w,
                    "TOML 格式错误：{detail}。请检查这一行的引号、方括号和等号是否完整、成对"
                );
            }
            (Msg::TomlSyntax { detail }, En) => {
                let _ = write!(
                    w,
                    "TOML syntax error: {detail}; check the quotes, brackets and `=` on this line"
                );
            }
            (Msg::NoBroadcasts, Zh) => {
                let _ = write!(w, "文件里没有任何 [[broadcast]] 节目，不会播出任何内容。请添加 [[broadcast]] 段落，或删除此文件");
            }
            (Msg::NoBroadcasts, En) => {
                let _ = write!(w, "the file has no [[broadcast]] entries, so nothing from it goes on air; add a [[broadcast]] section or delete the file");
            }
            (Msg::NoScheduleFiles { dir }, Zh) => {
                let _ = write!(w, "节目单文件夹 `{dir}` 里没有 .toml 文件，不会播出任何内容。请把节目单文件放进这个文件夹");
            }
            (Msg::NoScheduleFiles { dir }, En) => {
                let _ = write!(w, "the schedules folder `{dir}` holds no .toml files, so nothing goes on air; put schedule files there");
            }
            (Msg::FolderMissing { key, dir }, Zh) => {
                let _ = write!(w, "文件夹 `{dir}`（{key}）不存在。请创建它，或在 cunxiang.toml 的 [folders] 里改正 `{key}`");
            }
            (Msg::FolderMissing { key, dir }, En) => {
                let _ = write!(w, "the folder `{dir}` ({key}) does not exist; create it or correct `{key}` under [folders] in cunxiang.toml");
            }
            (
                Msg::UnknownKey {
                    key,
                    suggestion,
                    allowed,
                },
                Zh,
            ) => {
                let _ = write!(w, "未知的键 `{key}`。");
                match suggestion {
                    Some(s) => {
                        let _ = write!(w, "你是不是想写 `{s}`？");
                    }
                    None => {
                        let _ = write!(w, "可以使用的键：{}", list(allowed));
                    }
                }
            }
            (
                Msg::UnknownKey {
                    key,
                    suggestion,
                    allowed,
                },
                En,
            ) => {
                let _ = write!(w, "unknown key `{key}`; ");
                match suggestion {
                    Some(s) => {
                        let _ = write!(w, "did you mean `{s}`?");
                    }
                    None => {
                        let _ = write!(w, "the keys allowed here are {}", list(allowed));
                    }
                }
            }
            (Msg::WrongType { key, want, found }, _) => {
                let found = found_type(lang, found);
                match lang {
                    Zh => {
                        let _ = write!(
                            w,
                            "`{key}` 的值类型不对：这里写的是{found}，应该是{}",
                            want.describe(lang)
                        );
                    }
                    En => {
                        let _ = write!(
                            w,
                            "`{key}` has the wrong type: found {found}, expected {}",
                            want.describe(lang)
                        );
                    }
                }
            }
            (Msg::MissingKey { key, example }, Zh) => {
                let _ = write!(w, "缺少必填的键 `{key}`。请添加一行，例如：{example}");
            }
            (Msg::MissingKey { key, example }, En) => {
                let _ = write!(
                    w,
                    "the required key `{key}` is missing; add a line such as: {example}"
                );
            }
            (Msg::EmptyValue { key }, Zh) => {
                let _ = write!(w, "`{key}` 不能为空。请至少写一项");
            }
            (Msg::EmptyValue { key }, En) => {
                let _ = write!(w, "`{key}` must not be empty; give at least one item");
            }
            (Msg::EmptyName, Zh) => {
                let _ = write!(w, "节目名称 `name` 不能为空。请写上节目名称，如 name = \"致广大市民朋友的一封信\"");
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
                let _ = write!(w, "没有写播出时间。请添加 at = [\"07:30\", \"12:00\"]，或 cron = \"30 7 * * 1-5\"");
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
                let _ = write!(w, "音量 volume = {value} 无效。请写 0 到 1 之间的数字，1 为原始音量，如 volume = 0.8");
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
            (Msg::BadTimezone { value, suggestion }, Zh) => {
                let _ = write!(w, "时区 `{value}` 无效。");
                if let Some(s) = suggestion {
                    let _ = write!(w, "你是不是想写 `{s}`？");
                }
                let _ = write!(w, "请写 IANA 时区名，如 timezone = \"Asia/Shanghai\"");
            }
            (Msg::BadTimezone { value, suggestion }, En) => {
                let _ = write!(w, "`{value}` is not a time zone; ");
                if let Some(s) = suggestion {
                    let _ = write!(w, "did you mean `{s}`? ");
                }
                let _ = write!(
                    w,
                    "write an IANA zone name, like timezone = \"Asia/Shanghai\""
                );
            }
            (Msg::BadQuietHours { value }, Zh) => {
                let _ = write!(w, "静音时段 `{value}` 无效。请写成 \"开始-结束\"，如 quiet_hours = \"22:00-06:00\"");
            }
            (Msg::BadQuietHours { value }, En) => {
                let _ = write!(w, "quiet hours `{value}` are invalid; write \"start-end\", like quiet_hours = \"22:00-06:00\"");
            }
            (Msg::StationFolderMissing { path }, Zh) => {
                let _ = write!(w, "广播站文件夹 {path} 不存在（或不是文件夹）。请检查 --station 参数或环境变量 CUNXIANG_STATION");
            }
            (Msg::StationFolderMissing { path }, En) => {
                let _ = write!(w, "the station folder {path} does not exist (or is not a folder); check --station or the CUNXIANG_STATION variable");
            }
            (Msg::PlanDaysOutOfRange { value, max }, Zh) => {
                let _ = write!(w, "--days {value} 不行：计划一次最多 {max} 天（一年），至少 1 天。请写 1 到 {max} 之间的整数；要看更远，用 --from 分几次查看");
            }
            (Msg::PlanDaysOutOfRange { value, max }, En) => {
                let _ = write!(w, "--days {value} is not allowed: one plan covers 1 to {max} days (a year); give a whole number from 1 to {max}, and use --from for later windows");
            }
            (Msg::ScheduleEmptied, Zh) => {
                let _ = write!(w, "这个节目单文件现在一个 [[broadcast]] 都没有（像是没保存完），上一个正确的版本仍在播出。请把内容补全后保存；如果确实要停播这些节目，请删除这个文件");
            }
            (Msg::ScheduleEmptied, En) => {
                let _ = write!(w, "this schedule file now holds no [[broadcast]] (a save cut short?), so its last good version stays on air; complete it and save, or delete the file to take its broadcasts off air");
            }
            (Msg::SecondDaemonRefused, Zh) => {
                let _ = write!(w, "这个广播站已经有一个播控程序在运行，不能再开第二个（否则会重复播出）。请先停止正在运行的那个");
            }
            (Msg::SecondDaemonRefused, En) => {
                let _ = write!(w, "refusing to start a second daemon (it would play every broadcast twice); stop the running one first");
            }
            (Msg::StoreLostStopping, Zh) => {
                let _ = write!(w, "播出数据库写不进去（磁盘满了、只读或坏了），程序停止，以免播出没有记录。请检查数据文件夹所在的磁盘，修好后重新启动");
            }
            (Msg::StoreLostStopping, En) => {
                let _ = write!(w, "the database cannot be written (disk full, read-only or failing); stopping rather than play without a record. Check the disk of the data folder, then start again");
            }
            (Msg::StoreUnreadable, Zh) => {
                let _ = write!(
                    w,
                    "无法读取播出数据库，记录看不到（不是没有故障）。请检查数据文件夹的权限和磁盘"
                );
            }
            (Msg::StoreUnreadable, En) => {
                let _ = write!(w, "cannot read the database, so nothing can be shown (this is not \"all clear\"); check the data folder's permissions and the disk");
            }
            (Msg::StoreDamaged, Zh) => {
                let _ = write!(w, "播出数据库已损坏（不是数据库文件，或内部损坏），记录看不到（不是没有故障）。启动 cunxiang run：它把损坏的文件另存在旁边备查，新建数据库继续播出；或者从备份恢复这个文件");
            }
            (Msg::StoreDamaged, En) => {
                let _ = write!(w, "the database is damaged (not a database file, or broken inside), so nothing can be shown (this is not \"all clear\"); start cunxiang run: it keeps the damaged file beside for inspection and starts a new one, broadcasting on; or restore the file from a backup");
            }
            (Msg::BadOutput { value }, Zh) => {
                let _ = write!(w, "输出设备 `{value}` 无效。请写 \"rodio\"（默认声卡）、\"rodio:设备名\"、\"null\" 或 \"capture:文件路径\"");
            }
            (Msg::BadOutput { value }, En) => {
                let _ = write!(w, "the output device `{value}` is invalid; write \"rodio\" (default sound card), \"rodio:NAME\", \"null\" or \"capture:PATH\"");
            }
            (Msg::BadListen { value }, Zh) => {
                let _ = write!(
                    w,
                    "控制地址 `{value}` 无效。请写成 IP:端口，如 listen = \"127.0.0.1:7878\""
                );
            }
            (Msg::BadSetting { key, value, zh, .. }, Zh) => {
                let _ = write!(w, "`{key}` 的值 `{value}` 无效。{zh}");
            }
            (Msg::BadSetting { key, value, en, .. }, En) => {
                let _ = write!(w, "`{key}` = `{value}` is invalid; {en}");
            }
            (Msg::ListenNeedsToken { value }, Zh) => {
                let _ = write!(w, "控制地址 `{value}` 不只本机能访问，必须在 [control] 里设置 token = \"一串难猜的口令\"；只在本机用就写 listen = \"127.0.0.1:7878\"");
            }
            (Msg::ListenNeedsToken { value }, En) => {
                let _ = write!(w, "the control address `{value}` is reachable from other machines, so [control] needs token = \"a hard-to-guess secret\"; for this machine only, write listen = \"127.0.0.1:7878\"");
            }
            (
                Msg::DataFolderChanged {
                    running,
                    configured,
                },
                Zh,
            ) => {
                let _ = write!(w, "cunxiang.toml 里的数据文件夹改成了 {configured}，但正在运行的程序仍使用 {running}（播出记录、故障记录都在那里）。请重启村响（例如 systemctl restart cunxiang）后生效；在此之前各命令和网页都读 {running}");
            }
            (
                Msg::DataFolderChanged {
                    running,
                    configured,
                },
                En,
            ) => {
                let _ = write!(w, "the data folder in cunxiang.toml is now {configured}, but the running daemon still uses {running} (its as-run log and outages are there); restart cunxiang (e.g. systemctl restart cunxiang) to use the new one; until then every command and the web page read {running}");
            }
            (Msg::StationOnGoodCopy { copy, saved }, Zh) => {
                let _ = write!(w, "cunxiang.toml 有错误，程序按上次正确的版本运行（{copy}，保存于 {saved}）：数据文件夹、站名、时区和静音时段都保持不变。请改正上面的错误，保存后几秒内生效");
            }
            (Msg::StationOnGoodCopy { copy, saved }, En) => {
                let _ = write!(w, "cunxiang.toml has errors, so the station runs on its last good version ({copy}, saved {saved}): data folder, name, time zone and quiet hours are unchanged; fix the errors above and save, it applies within seconds");
            }
            (
                Msg::StationOnDefaults {
                    data,
                    name,
                    timezone,
                },
                Zh,
            ) => {
                let _ = write!(w, "cunxiang.toml 有错误，而且没有上次正确的版本：程序按默认设置运行——数据文件夹 {data}、站名「{name}」、时区 {timezone}、没有静音时段、没有节假日。请尽快改正上面的错误");
            }
            (
                Msg::StationOnDefaults {
                    data,
                    name,
                    timezone,
                },
                En,
            ) => {
                let _ = write!(w, "cunxiang.toml has errors and there is no last good version: the station runs on defaults (data folder {data}, name \"{name}\", time zone {timezone}, no quiet hours, no holidays); fix the errors above soon");
            }
            (Msg::BadListen { value }, En) => {
                let _ = write!(w, "the control address `{value}` is invalid; write IP:PORT, like listen = \"127.0.0.1:7878\"");
            }
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
        }
        s
    }
}

/// Fixed UI words (headers, labels) that are not findings.
pub fn word(lang: Lang, key: &str) -> &'static str {
    let (zh, en) = match key {
        "error" => ("错误", "error"),
        "warning" => ("警告", "warning"),
        "time" => ("播出时间", "scheduled"),
        "end" => ("预计结束", "ends"),
        "broadcast" => ("节目", "broadcast"),
        "files" => ("文件", "files"),
        "priority" => ("优先级", "priority"),
        "note" => ("备注", "note"),
        "normal" => ("普通", "normal"),
        "important" => ("重要", "important"),
        "emergency" => ("紧急", "emergency"),
        "day_total" => ("当日合计", "day total"),
        "firings" => ("次", "firings"),
        "air_time" => ("播出时长", "air time"),
        "skipped_quiet" => ("静音时段，不播", "skipped: quiet hours"),
        "skipped_holiday" => ("节假日，不播", "skipped: holiday"),
        "chime" => ("提示音", "chime"),
        "unknown_len" => ("时长未知", "length unknown"),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A play status in the operator's words.
pub fn status_word(lang: Lang, status: &str) -> &'static str {
    let (zh, en) = match status {
        "playing" => ("播出中", "playing"),
        "played" => ("已播出", "played"),
        "partial" => ("未播完", "partial"),
        "failed" => ("失败", "failed"),
        "missed" => ("漏播", "missed"),
        "skipped" => ("不播", "skipped"),
        "interrupted" => ("中断", "interrupted"),
        _ => ("?", "?"),
    };
    lang.pick(zh, en)
}

/// What started a play, in the operator's words.
pub fn trigger_word(lang: Lang, trigger: &str) -> &'static str {
    let (zh, en) = match trigger {
        "schedule" => ("定时", "schedule"),
        "catch_up" => ("补播", "catch-up"),
        "manual" => ("手动", "manual"),
        _ => ("?", "?"),
    };
    lang.pick(zh, en)
}

/// A stored reason code (`busy: 一封信`, `quiet_hours`, ...) in words.
pub fn reason_text(lang: Lang, reason: &str) -> String {
    reason
        .split("; ")
        .map(|part| {
            let (code, detail) = match part.split_once(": ") {
                Some((c, d)) => (c, d),
                None => (part, ""),
            };
            match (code, lang) {
                ("not_running", Lang::Zh) => "程序没有运行（停电、关机或死机）".to_string(),
                ("not_running", Lang::En) => {
                    "cunxiang was not running (power cut, shutdown or crash)".to_string()
                }
                ("clock_jump", Lang::Zh) => "电脑时间跳变，跳过了这个时间".to_string(),
                ("clock_jump", Lang::En) => "the PC clock jumped over it".to_string(),
                ("superseded", Lang::Zh) => "同一节目已补播较晚的一次".to_string(),
                ("superseded", Lang::En) => {
                    "a later firing of the same broadcast was played instead".to_string()
                }
                ("too_late", Lang::Zh) => "超过补播窗口".to_string(),
                ("too_late", Lang::En) => "past its catch-up window".to_string(),
                ("busy", Lang::Zh) => format!("一直在播「{detail}」，超过补播窗口"),
                ("busy", Lang::En) => {
                    format!("the output was busy with \"{detail}\" past its catch-up window")
                }
                ("quiet_hours", Lang::Zh) => "静音时段".to_string(),
                ("quiet_hours", Lang::En) => "quiet hours".to_string(),
                ("holiday", Lang::Zh) => "节假日".to_string(),
                ("holiday", Lang::En) => "holiday".to_string(),
                ("interrupted_by", Lang::Zh) => format!("被「{detail}」打断"),
                ("interrupted_by", Lang::En) => format!("interrupted by \"{detail}\""),
                ("resumed", Lang::Zh) => "之后续播完成".to_string(),
                ("resumed", Lang::En) => "then resumed to the end".to_string(),
                ("stopped", Lang::Zh) => "程序被停止".to_string(),
                ("stopped", Lang::En) => "cunxiang was stopped".to_string(),
                ("operator_stop", Lang::Zh) => "被人工停播".to_string(),
                ("operator_stop", Lang::En) => "stopped by a person".to_string(),
                ("content", Lang::Zh) => format!("音频文件有问题：{detail}"),
                ("content", Lang::En) => format!("audio file problem: {detail}"),
                ("device", Lang::Zh) => format!("声卡故障：{detail}"),
                ("device", Lang::En) => format!("sound device failure: {detail}"),
                ("config", Lang::Zh) => format!("节目单文件有错误，这条节目没有生效：{detail}"),
                ("config", Lang::En) => {
                    format!("its schedule file has errors, so it was off air: {detail}")
                }
                ("daemon stopped during the play", Lang::Zh) => {
                    "播出中程序中断（停电或被强行结束）".to_string()
                }
                ("daemon stopped during the play", Lang::En) => {
                    "cunxiang stopped during the play (power cut or killed)".to_string()
                }
                _ => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(lang.pick("；", "; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_prefers_explicit_then_locale() {
        let none = |_: &str| None;
        assert_eq!(Lang::detect(None, none), Lang::Zh);
        assert_eq!(Lang::detect(Some("en"), none), Lang::En);
        let en = |k: &str| (k == "LANG").then(|| "en_US.UTF-8".to_string());
        assert_eq!(Lang::detect(None, en), Lang::En);
        assert_eq!(Lang::detect(Some("zh"), en), Lang::Zh);
        let c = |k: &str| (k == "LANG").then(|| "C.UTF-8".to_string());
        assert_eq!(Lang::detect(None, c), Lang::Zh);
    }
}

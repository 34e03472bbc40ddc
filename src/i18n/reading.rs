//! Messages about reading a file before its meaning: unreadable, not
//! UTF-8, TOML syntax, unknown or missing keys, wrong types. Words only:
//! it decides nothing and imports nothing of the crate but the catalogue.

use super::lang::Lang;
use super::msg::Msg;
use super::msg::Want;
use std::fmt::Write as _;

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    match (msg, lang) {
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
        (other, _) => {
            debug_assert!(false, "{other:?} routed to the wrong area");
            let _ = write!(w, "{other:?}");
        }
    }
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

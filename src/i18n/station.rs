//! Messages about the station file (`cunxiang.toml`): zone, quiet hours,
//! output, control address, settings, and running on a good copy or on
//! defaults. Words only.

use super::lang::Lang;
use super::msg::Msg;
use std::fmt::Write as _;

/// Writes `msg` in `lang`; [`Msg::render`] routes only this area's
/// variants here.
pub(super) fn render(msg: &Msg, lang: Lang, w: &mut String) {
    use Lang::*;
    match (msg, lang) {
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
            let _ = write!(
                w,
                "静音时段 `{value}` 无效。请写成 \"开始-结束\"，如 quiet_hours = \"22:00-06:00\""
            );
        }
        (Msg::BadQuietHours { value }, En) => {
            let _ = write!(w, "quiet hours `{value}` are invalid; write \"start-end\", like quiet_hours = \"22:00-06:00\"");
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
        (other, _) => {
            debug_assert!(false, "{other:?} routed to the wrong area");
            let _ = write!(w, "{other:?}");
        }
    }
}

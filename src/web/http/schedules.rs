//! The operator's page's schedule forms: pause or enable a broadcast
//! (`POST /schedule/enabled`) and add one (`POST /schedule/add`). They
//! edit the schedule files themselves (the files stay the one truth; the
//! daemon's watcher reloads them like any editor's save), keeping every
//! comment (`config::schedule::edit`), and answer with a redirect to
//! `/manage` carrying a result code.
//!
//! Only files in the station's schedules folder are written, each one
//! atomically (a temp file beside it, fsync, rename). A pause carries the
//! file's version as the page showed it and is refused when the file
//! changed since. It must not render the page.

use super::forms::{back_to, checked_form, form_lang};
use super::{blocking, Shared};
use crate::config::load::Station;
use crate::config::schedule::edit::{self, EditError, NewBroadcast};
use crate::config::schedule::{AudioPath, Priority};
use crate::daemon::Control;
use crate::i18n::Lang;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One edit at a time: two forms posted at once must not both read the
/// same text and the second overwrite the first's change.
static EDITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The page the forms return to.
const PAGE: &str = "/manage";

/// Why a form changed nothing: a result code for the page's sentence and
/// the name the sentence quotes.
#[derive(Debug, PartialEq)]
struct Refusal {
    code: &'static str,
    subject: String,
}

fn refuse(code: &'static str, subject: &str) -> Refusal {
    Refusal {
        code,
        subject: subject.to_string(),
    }
}

/// `POST /schedule/enabled`: fields `file`, `index`, `name`, `enabled`
/// (`true`/`false`), `version`.
#[tracing::instrument(skip_all)]
pub(super) async fn form_enabled(
    State(st): State<Shared>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, &headers, f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let lang = form_lang(&f);
    let name = field(&f, "name");
    let dir = st.station_dir.clone();
    let done = blocking(&st, move || set_enabled(&dir, &f)).await;
    answer(&st, lang, done, &name)
}

/// `POST /schedule/add`: fields `file` (a schedule file, or empty with
/// `new_file`), `name`, `play`, `at`, `days`, `priority`.
#[tracing::instrument(skip_all)]
pub(super) async fn form_add(
    State(st): State<Shared>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, &headers, f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let lang = form_lang(&f);
    let name = field(&f, "name");
    let dir = st.station_dir.clone();
    let done = blocking(&st, move || add(&dir, &f)).await;
    answer(&st, lang, done, &name)
}

/// The redirect for an edit's outcome; a written file is also reloaded
/// at once (the watcher would within a second; a daemon run with
/// `--no-watch` has none).
fn answer(
    st: &Shared,
    lang: Lang,
    done: Result<Result<&'static str, Refusal>, super::ApiError>,
    name: &str,
) -> Response {
    match done {
        Ok(Ok(code)) => {
            if st.control.try_send(Control::Reload).is_err() {
                tracing::debug!("reload not sent now; the watcher reloads");
            }
            back_to(PAGE, lang, "ok", code, name)
        }
        Ok(Err(r)) => {
            tracing::info!(code = r.code, subject = %r.subject, "schedule form refused");
            back_to(PAGE, lang, "err", r.code, &r.subject)
        }
        Err(_) => back_to(PAGE, lang, "err", "busy", name),
    }
}

fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}

fn set_enabled(dir: &Path, f: &HashMap<String, String>) -> Result<&'static str, Refusal> {
    let (file, name) = (field(f, "file"), field(f, "name"));
    let on = match field(f, "enabled").as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(refuse("badform", &name)),
    };
    let index: usize = field(f, "index")
        .parse()
        .map_err(|_| refuse("badform", &name))?;
    let station = Station::load(dir);
    let path = existing_file(&station, &file)?;
    let _one = EDITING.lock().unwrap_or_else(|p| p.into_inner());
    let (bom, text) = read(&path, &file)?;
    if edit::version(&text) != field(f, "version") {
        return Err(refuse("stale", &file));
    }
    let out = edit::set_enabled(&text, index, Some(&name), on)
        .map_err(|e| edit_refusal(e, &file, &name))?;
    write(&path, bom, &out, &file)?;
    tracing::info!(file = %file, broadcast = %name, enabled = on, "schedule file edited");
    Ok(if on { "enabled" } else { "paused" })
}

fn add(dir: &Path, f: &HashMap<String, String>) -> Result<&'static str, Refusal> {
    let station = Station::load(dir);
    let b = new_broadcast(&station, f)?;
    if station.all_broadcasts().any(|x| x.name == b.name) {
        return Err(refuse("dupname", &b.name));
    }
    let file = field(f, "file");
    let (path, shown) = if file.is_empty() {
        new_file(&station, &field(f, "new_file"))?
    } else {
        (existing_file(&station, &file)?, file)
    };
    let _one = EDITING.lock().unwrap_or_else(|p| p.into_inner());
    let (bom, text) = read(&path, &shown)?;
    let out = edit::add_broadcast(&text, &b).map_err(|e| edit_refusal(e, &shown, &b.name))?;
    write(&path, bom, &out, &shown)?;
    tracing::info!(file = %shown, broadcast = %b.name, "broadcast added to a schedule file");
    Ok("added")
}

/// The form's broadcast, each field checked with a sentence of its own.
fn new_broadcast(station: &Station, f: &HashMap<String, String>) -> Result<NewBroadcast, Refusal> {
    let name = field(f, "name");
    if name.is_empty() {
        return Err(refuse("noname", ""));
    }
    let play = field(f, "play");
    let audio = AudioPath::parse(&play).map_err(|_| refuse("badplay", &play))?;
    if !audio.is_dated() && !station.audio_dir().join(audio.template()).is_file() {
        return Err(refuse("noaudio", &play));
    }
    let at = words(&field(f, "at"));
    if at.is_empty() {
        return Err(refuse("notime", ""));
    }
    if let Some(bad) = at
        .iter()
        .find(|t| crate::config::schedule::parse_time(t).is_none())
    {
        return Err(refuse("badtime", bad));
    }
    let days = match field(f, "days").as_str() {
        "" | "all" | "daily" | "每天" => None,
        other => Some(words(other)),
    };
    let priority = match field(f, "priority").as_str() {
        "" => None,
        p => Some(Priority::parse(p).ok_or_else(|| refuse("badprio", p))?),
    };
    Ok(NewBroadcast {
        name,
        play: vec![audio.template().to_string()],
        at,
        days,
        priority,
    })
}

/// Times or days as typed: separated by spaces, commas (also Chinese
/// ones), 、 or semicolons.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || ",，、;；".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A schedule file the station has, by the name the page shows.
fn existing_file(station: &Station, shown: &str) -> Result<PathBuf, Refusal> {
    station
        .files
        .iter()
        .find(|f| f.shown == shown)
        .map(|f| f.path.clone())
        .ok_or_else(|| refuse("nofile", shown))
}

/// A new file's path in the schedules folder: a plain `name.toml`, no
/// folder, not hidden. One that exists already is that file.
fn new_file(station: &Station, raw: &str) -> Result<(PathBuf, String), Refusal> {
    let dir = station.schedules_dir();
    let prefix = format!(
        "{}/",
        crate::config::load::shown_path(&station.dir, &dir).trim_end_matches('/')
    );
    let name = raw.strip_prefix(&prefix).unwrap_or(raw).trim();
    let name = if name.to_lowercase().ends_with(".toml") || name.is_empty() {
        name.to_string()
    } else {
        format!("{name}.toml")
    };
    let plain = !name.is_empty()
        && name.len() > ".toml".len()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', ':', '\0'])
        && name.chars().count() <= 80;
    if !plain {
        return Err(refuse("badnewfile", raw));
    }
    let path = dir.join(&name);
    let shown = crate::config::load::shown_path(&station.dir, &path);
    Ok((path, shown))
}

/// The file's text as the parser reads it (a UTF-8 BOM set aside), and
/// whether it had the BOM; a file not there yet is empty.
fn read(path: &Path, shown: &str) -> Result<(bool, String), Refusal> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            tracing::warn!(file = %shown, error = %e, "schedule file not readable");
            return Err(refuse("unreadable", shown));
        }
    };
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
        Some(rest) => (true, rest.to_vec()),
        None => (false, bytes),
    };
    let text = String::from_utf8(body).map_err(|_| refuse("unreadable", shown))?;
    Ok((bom, text))
}

fn write(path: &Path, bom: bool, text: &str, shown: &str) -> Result<(), Refusal> {
    let mut bytes = Vec::with_capacity(text.len() + 3);
    if bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(text.as_bytes());
    write_atomically(path, &bytes).map_err(|e| {
        tracing::warn!(file = %shown, error = %e, "schedule file not written");
        refuse("writefail", shown)
    })
}

/// Writes a file so a power cut leaves the old text or the new, never
/// half of one: a temp file in the same folder (not a `*.toml`, so
/// neither the loader nor the watcher takes it for a schedule), fsync,
/// rename over the file, then fsync the folder where that exists.
///
/// # Errors
/// When any step fails; the temp file is then removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.cunxiang-tmp"));
    let done = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn edit_refusal(e: EditError, file: &str, name: &str) -> Refusal {
    match e {
        EditError::Syntax { line } => refuse("syntax", &format!("{file}:{line}")),
        EditError::NotTables => refuse("notables", file),
        EditError::NoSuchEntry { .. } | EditError::NameMismatch { .. } => refuse("stale", file),
        EditError::EmptyName => refuse("noname", ""),
        EditError::DuplicateName { .. } => refuse("dupname", name),
        EditError::BadPlay { value } => refuse("badplay", &value),
        EditError::NoTimes => refuse("notime", ""),
        EditError::BadTime { value } => refuse("badtime", &value),
        EditError::BadDay { value } => refuse("badday", &value),
        EditError::WouldBreak { detail } => {
            tracing::warn!(file, %detail, "edit refused: it would add an error");
            refuse("wouldbreak", file)
        }
    }
}

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
    fn typed_lists_split_on_any_separator() {
        assert_eq!(
            words("07:30, 12:00，18:30、 19:00"),
            ["07:30", "12:00", "18:30", "19:00"]
        );
        assert!(words(" ,， ").is_empty());
    }

    #[test]
    fn new_files_stay_in_the_schedules_folder() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("schedules")).unwrap();
        let st = Station::load(d.path());
        let ok = |raw: &str| new_file(&st, raw).map(|(_, s)| s);
        assert_eq!(ok("通知.toml").unwrap(), "schedules/通知.toml");
        assert_eq!(ok("schedules/a.toml").unwrap(), "schedules/a.toml");
        assert_eq!(ok("b").unwrap(), "schedules/b.toml");
        for bad in [
            "../cunxiang.toml",
            "a/b.toml",
            ".x.toml",
            "",
            ".toml",
            "..\\x.toml",
            "C:x.toml",
        ] {
            assert_eq!(ok(bad).unwrap_err().code, "badnewfile", "{bad}");
        }
        assert_eq!(
            existing_file(&st, "../cunxiang.toml").unwrap_err().code,
            "nofile"
        );
    }

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

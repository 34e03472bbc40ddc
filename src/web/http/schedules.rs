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
use super::guard::Peer;
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
use axum::Extension;
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
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, peer, &headers, f).await {
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
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, peer, &headers, f).await {
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
    // Control characters (a pasted escape sequence, a newline) never
    // reach the file, the log or a terminal.
    let name: String = field(f, "name")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let name = name.trim().to_string();
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
    let plain = name.len() > ".toml".len()
        && super::upload::safe_file_name(&name)
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
}

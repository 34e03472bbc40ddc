//! Audio sent from the operator's page (`POST /upload`), and the audio
//! files listed for tools (`GET /api/audio`). An upload is streamed into a
//! temporary file in the data folder (never under `audio/`, so a half
//! written file never shows in the library), checked whole (decoded to
//! the end), and only then linked into `audio/` under its own name, which
//! is refused, never rewritten, when it could leave the folder. The temp
//! file is deleted whatever happens. It must not play anything nor touch
//! a schedule file.

use super::error::ApiError;
use super::forms::{back_to, form_lang, form_refusal_to};
use super::guard::LangQuery;
use super::guard::Peer;
use super::{blocking, Shared};
use crate::config::load::Station;
use crate::i18n::Lang;
use crate::sound::media;
use crate::views::text::cut;
use crate::web::dashboard::{audio_entries, AudioEntry, MAX_UPLOAD};
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The route's body limit: the file and the few small fields beside it.
pub(super) const BODY_LIMIT: usize = MAX_UPLOAD as usize + 64 * 1024;
/// The longest audio taken.
const MAX_LENGTH: Duration = Duration::from_secs(2 * 3600);
/// Characters of a stored file name.
const MAX_NAME: usize = 100;
/// Bytes of a stored name (UTF-8: 66 Chinese characters).
const MAX_NAME_BYTES: usize = 200;
/// What the decoder (symphonia's features in Cargo.toml) and the player read.
pub const EXTENSIONS: &[&str] = &["mp3", "wav", "m4a", "mp4", "aac", "ogg", "oga", "flac"];
/// The folder under the data folder where uploads are written first.
const TEMP_DIR: &str = "uploads";
/// Bytes of a text field (csrf, token, lang).
const FIELD_BYTES: usize = 4096;
/// Rows of `/api/audio`.
const API_ROWS: usize = 5000;
/// Characters of a refused name carried back to the page.
const SHOWN_NAME: usize = 40;

/// Why an upload was refused: each is a result code the page explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Big,
    NotAudio,
    Long,
    Name,
    Type,
    Empty,
    /// The body broke off, or the disk could not be written.
    Failed,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::Big => "upload_big",
            Refusal::NotAudio => "upload_not_audio",
            Refusal::Long => "upload_long",
            Refusal::Name => "upload_name",
            Refusal::Type => "upload_type",
            Refusal::Empty => "upload_empty",
            Refusal::Failed => "upload_failed",
        }
    }
}

/// Whether `name` (the file's own name, as the browser sent it) may be
/// stored as it is: `Name` when it could leave the folder, hide itself or
/// not be written on Windows; `Type` when its extension is not audio the
/// player reads. Chinese and spaces are kept.
pub(super) fn check_name(name: &str) -> Result<(), Refusal> {
    // Braces name a dated file in a schedule (`{date}`): such a name
    // could not be added to one as itself.
    if !safe_file_name(name) || name.contains(['{', '}']) {
        return Err(Refusal::Name);
    }
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext {
        Some(e) if EXTENSIONS.contains(&e.as_str()) => Ok(()),
        _ => Err(Refusal::Type),
    }
}

/// A plain file name that is the same on every system the daemon runs on
/// and that a person can read: no separators or characters Windows
/// forbids, no control or invisible characters (zero-width, direction
/// overrides, BOM), no leading or trailing dot or space, no `..`, not a
/// Windows device name (CON, COM1, COM¹, CONIN$…), at most [`MAX_NAME`]
/// characters and [`MAX_NAME_BYTES`] bytes (Linux allows 255, and the
/// numbered and temporary names add some).
pub(super) fn safe_file_name(name: &str) -> bool {
    let invisible = |c: char| matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
    let bad_char = |c: char| {
        c.is_control()
            || invisible(c)
            || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
    };
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim()
        .to_uppercase();
    let device = |p: &str| {
        stem.strip_prefix(p).is_some_and(|n| {
            n.chars().count() == 1 && (n.chars().all(|c| c.is_numeric() || "¹²³".contains(c)))
        })
    };
    let reserved = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(&stem.as_str())
        || device("COM")
        || device("LPT");
    !(name.trim().is_empty()
        || name != name.trim()
        || name.chars().count() > MAX_NAME
        || name.len() > MAX_NAME_BYTES
        || name.starts_with('.')
        || name.ends_with('.')
        || name.contains("..")
        || name.chars().any(bad_char)
        || reserved)
}

/// The `n`th name tried for `name`: itself, then `名字 (2).mp3`, …
fn candidate(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem} ({n}).{ext}"),
        None => format!("{name} ({n})"),
    }
}

/// The temp file of one upload: removed when dropped, unless it was
/// linked into `audio/` (then removing it only drops the second name).
struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.0.display(), error = %e, "upload temp file not removed");
            }
        }
    }
}

/// Where an upload goes: the station's audio folder and its temp folder.
struct Places {
    audio: PathBuf,
    temp: PathBuf,
}

fn places(station_dir: &Path) -> std::io::Result<Places> {
    let station = Station::load(station_dir);
    let temp = station.data_dir().join(TEMP_DIR);
    std::fs::create_dir_all(&temp)?;
    sweep(&temp);
    Ok(Places {
        audio: station.audio_dir(),
        temp,
    })
}

/// Temp files an earlier run left (a power cut mid-upload), an hour old.
fn sweep(temp: &Path) {
    let Ok(rd) = std::fs::read_dir(temp) else {
        return;
    };
    for e in rd.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Back to the operator's page with a refusal (the name cut short).
fn refused(lang: Lang, why: Refusal, name: &str) -> Response {
    tracing::info!(code = why.code(), name = %media::visible(name), "upload refused");
    back_to("/manage", lang, "err", why.code(), &cut(name, SHOWN_NAME))
}

/// `POST /upload` (multipart): `lang`, `csrf`, `token` first (as the
/// page's form sends them), then `file`. A file sent before the fields
/// that open the form is refused unread.
#[tracing::instrument(skip_all)]
pub(super) async fn upload(
    State(st): State<Shared>,
    Extension(Peer(peer)): Extension<Peer>,
    q: Result<Query<LangQuery>, QueryRejection>,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut lang = q.map(|Query(q)| q.lang()).unwrap_or(Lang::Zh);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        // Refused before a byte of the body is read.
        return refused(lang, Refusal::Big, "");
    }
    let mut mp = match mp {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let mut fields = HashMap::new();
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return refused(lang, broken(&e), ""),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name != "file" {
            match text(&mut field).await {
                Ok(t) => {
                    fields.insert(name, t);
                    lang = form_lang(&fields);
                }
                Err(why) => return refused(lang, why, ""),
            }
            continue;
        }
        if let Some(r) = form_refusal_to("/manage", &st, peer, &headers, &fields).await {
            return r;
        }
        let original = field.file_name().unwrap_or_default().to_string();
        let answer = receive(&st, field, &original).await;
        drain(&mut mp).await;
        return match answer {
            Ok(stored) => back_to("/manage", lang, "ok", "uploaded", &stored),
            Err(why) => refused(lang, why, &original),
        };
    }
    match form_refusal_to("/manage", &st, peer, &headers, &fields).await {
        Some(r) => r,
        None => refused(lang, Refusal::Empty, ""),
    }
}

/// A small text field, whole.
async fn text(field: &mut Field<'_>) -> Result<String, Refusal> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| broken(&e))? {
        buf.extend_from_slice(&chunk);
        if buf.len() > FIELD_BYTES {
            return Err(Refusal::Failed);
        }
    }
    String::from_utf8(buf).map_err(|_| Refusal::Failed)
}

/// What a multipart error means for the person: too big (the route's
/// limit), else a body that broke off.
fn broken(e: &MultipartError) -> Refusal {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::Big
    } else {
        tracing::warn!(error = %e.body_text(), "upload body unreadable");
        Refusal::Failed
    }
}

/// Reads what follows the file (nothing, from the page), so the answer is
/// not lost to a connection reset; bounded by the route's body limit.
async fn drain(mp: &mut Multipart) {
    while let Ok(Some(mut f)) = mp.next_field().await {
        while let Ok(Some(_)) = f.chunk().await {}
    }
}

/// The file: its name checked, streamed to a temp file, checked whole,
/// then put into `audio/`. Returns the stored name.
async fn receive(st: &Shared, mut field: Field<'_>, original: &str) -> Result<String, Refusal> {
    if original.is_empty() {
        return Err(Refusal::Empty);
    }
    check_name(original)?;
    let dir = st.station_dir.clone();
    let places = blocking(st, move || places(&dir))
        .await
        .map_err(|_| Refusal::Failed)?
        .map_err(|e| {
            tracing::error!(error = %e, "upload temp folder cannot be made");
            Refusal::Failed
        })?;
    let ext = Path::new(original)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("bin")
        .to_ascii_lowercase();
    // The extension is the decoder's hint, as it is the player's.
    let temp = Temp(places.temp.join(format!("{}.{ext}", super::random_hex())));
    let bytes = write_temp(&mut field, &temp.0).await?;
    if bytes == 0 {
        return Err(Refusal::Empty);
    }
    let (name, audio) = (original.to_string(), places.audio);
    let stored = blocking(st, move || {
        let stored = check_audio(&temp.0, &name).and_then(|_| place(&temp.0, &audio, &name));
        drop(temp);
        stored
    })
    .await
    .map_err(|_| Refusal::Failed)??;
    tracing::info!(file = %stored, bytes, "upload stored in the audio folder");
    Ok(stored)
}

/// Streams the field into `path` (synced to disk), at most [`MAX_UPLOAD`].
async fn write_temp(field: &mut Field<'_>, path: &Path) -> Result<u64, Refusal> {
    let io = |e: std::io::Error| {
        tracing::error!(path = %path.display(), error = %e, "upload temp file cannot be written");
        Refusal::Failed
    };
    let file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut bytes: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(|e| broken(&e))? {
        bytes += chunk.len() as u64;
        if bytes > MAX_UPLOAD {
            return Err(Refusal::Big);
        }
        out.write_all(&chunk).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    out.into_inner().sync_all().await.map_err(io)?;
    Ok(bytes)
}

/// Audio the player reads, to the end, no longer than [`MAX_LENGTH`]: the
/// header first (a long file is refused without decoding it all), then
/// every sample.
fn check_audio(path: &Path, name: &str) -> Result<(), Refusal> {
    let not_audio = |e: media::MediaError| {
        tracing::info!(file = %media::visible(name), error = %e, "upload is not playable audio");
        Refusal::NotAudio
    };
    let info = media::probe(path).map_err(not_audio)?;
    if info.duration > MAX_LENGTH {
        return Err(Refusal::Long);
    }
    // Decoding stops past the limit: a header that understates the length
    // must not cost hours of decoding.
    match media::decode_up_to(path, Some(MAX_LENGTH)).map_err(not_audio)? {
        Some(length) if length <= MAX_LENGTH => Ok(()),
        _ => Err(Refusal::Long),
    }
}

/// Links the checked temp file into `audio/` under `name`, or `名字 (2)`
/// and so on when taken: a link never replaces a file, so two uploads of
/// one name cannot overwrite each other. Then the folder is synced.
fn place(temp: &Path, audio: &Path, name: &str) -> Result<String, Refusal> {
    let io = |e: std::io::Error| {
        tracing::error!(folder = %audio.display(), error = %e, "upload cannot be put in the audio folder");
        Refusal::Failed
    };
    std::fs::create_dir_all(audio).map_err(io)?;
    for n in 1..=999 {
        let stored = candidate(name, n);
        let dest = audio.join(&stored);
        match std::fs::hard_link(temp, &dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // Another file system, or one without links: copy beside the
            // destination under a hidden name, then rename (not over a file).
            Err(_) => {
                if dest.symlink_metadata().is_ok() {
                    continue;
                }
                copy_in(temp, audio, &dest).map_err(io)?;
            }
        }
        if let Ok(d) = std::fs::File::open(audio) {
            let _ = d.sync_all();
        }
        return Ok(stored);
    }
    Err(Refusal::Name)
}

fn copy_in(temp: &Path, audio: &Path, dest: &Path) -> std::io::Result<()> {
    let part = audio.join(format!(".upload-{}.part", super::random_hex()));
    let done = std::fs::copy(temp, &part)
        .and_then(|_| std::fs::File::open(&part)?.sync_all())
        .and_then(|_| std::fs::rename(&part, dest));
    if done.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    done
}

/// `GET /api/audio`: every audio file of the library (at most
/// [`API_ROWS`]), with its length or why it cannot play.
#[tracing::instrument(skip_all)]
pub(super) async fn api_audio(
    State(st): State<Shared>,
    q: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Json<Vec<AudioEntry>>, ApiError> {
    let lang = q?.lang();
    let dir = st.station_dir.clone();
    let list = blocking(&st, move || {
        let audio = Station::load(&dir).audio_dir();
        audio_entries(&audio, lang, API_ROWS).0
    })
    .await?;
    Ok(Json(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_safe_name_rule() {
        use Refusal::{Name, Type};
        let table: &[(&str, Result<(), Refusal>)] = &[
            ("通知.mp3", Ok(())),
            ("致广大市民朋友的一封信 (2).MP3", Ok(())),
            ("公告 2026-12-01.wav", Ok(())),
            ("歌.m4a", Ok(())),
            ("a.flac", Ok(())),
            ("a.ogg", Ok(())),
            ("a.aac", Ok(())),
            ("", Err(Name)),
            ("   ", Err(Name)),
            ("../../evil.mp3", Err(Name)),
            ("a/b.mp3", Err(Name)),
            ("a\\b.mp3", Err(Name)),
            ("C:evil.mp3", Err(Name)),
            ("..mp3", Err(Name)),
            ("a..mp3", Err(Name)),
            (".hidden.mp3", Err(Name)),
            ("line\nbreak.mp3", Err(Name)),
            ("nul\0.mp3", Err(Name)),
            ("问号?.mp3", Err(Name)),
            ("dot.", Err(Name)),
            ("CON.mp3", Err(Name)),
            ("com1.wav", Err(Name)),
            ("console.mp3", Ok(())),
            ("a长.mp3", Ok(())),
            (&"长".repeat(97), Err(Name)),
            (&format!("{}.mp3", "长".repeat(64)), Ok(())),
            (&format!("{}.mp3", "长".repeat(66)), Err(Name)),
            (&format!("{}.mp3", "a".repeat(96)), Ok(())),
            (&format!("{}.mp3", "a".repeat(97)), Err(Name)),
            ("{date}.mp3", Err(Name)),
            ("通知{yyyy}.mp3", Err(Name)),
            ("COM¹.wav", Err(Name)),
            ("conin$.wav", Err(Name)),
            ("\u{200b}.wav", Err(Name)),
            ("\u{202e}3pm.wav", Err(Name)),
            ("\u{feff}a.wav", Err(Name)),
            (" a.wav", Err(Name)),
            ("picture.png", Err(Type)),
            ("no extension", Err(Type)),
            ("script.mp3.exe", Err(Type)),
        ];
        for (name, want) in table {
            assert_eq!(check_name(name), *want, "{name:?}");
        }
    }

    #[test]
    fn a_taken_name_gets_a_number() {
        assert_eq!(candidate("通知.mp3", 1), "通知.mp3");
        assert_eq!(candidate("通知.mp3", 2), "通知 (2).mp3");
        assert_eq!(candidate("a.b.wav", 3), "a.b (3).wav");
    }

    #[test]
    fn place_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let audio = d.path().join("audio");
        std::fs::create_dir_all(&audio).unwrap();
        std::fs::write(audio.join("通知.mp3"), b"old").unwrap();
        let temp = d.path().join("t.mp3");
        std::fs::write(&temp, b"new").unwrap();
        assert_eq!(place(&temp, &audio, "通知.mp3").unwrap(), "通知 (2).mp3");
        assert_eq!(std::fs::read(audio.join("通知.mp3")).unwrap(), b"old");
        assert_eq!(std::fs::read(audio.join("通知 (2).mp3")).unwrap(), b"new");
    }
}

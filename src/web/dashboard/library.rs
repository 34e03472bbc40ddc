//! The audio library on the operator's page: the upload form, then every
//! audio file under `audio/` with its length and size, a search box, and
//! per file "play now" and "add to a schedule". Lengths come from a probe
//! of each file, remembered across page loads while the file's size and
//! time stay the same, so a library of hundreds of files loads fast. It
//! reads the audio folder; it must not write it (uploads are
//! `web::http`'s).

use super::{Ctx, NAME, REASON};
use crate::daemon::Live;
use crate::i18n::Lang;
use crate::sound::media::{self, MediaError};
use crate::views::text::cut;
use crate::views::Reading;
use maud::{html, Markup, PreEscaped};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Rows of the library shown (the rest are counted).
pub const LIBRARY_ROWS: usize = 1000;
/// Files looked at in the folder at most (a runaway folder stays bounded).
const WALK_LIMIT: usize = 100_000;
/// Probes remembered.
const CACHE_ENTRIES: usize = 8192;
/// The largest audio file taken by an upload (a 2-hour MP3 at 96 kbit/s
/// is ~86 MB): the page checks it before sending, the server again.
pub const MAX_UPLOAD: u64 = 100 * 1024 * 1024;

/// One audio file of the library, as `/api/audio` gives it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AudioEntry {
    /// The path under `audio/`, with `/`: what a schedule's `play` names.
    pub file: String,
    /// The length, when it plays.
    pub seconds: Option<f64>,
    pub bytes: u64,
    pub playable: bool,
    /// Why it cannot play, for the operator.
    pub error: Option<String>,
}

/// One probe, valid while the file keeps its size and time.
struct Probed {
    bytes: u64,
    modified: Option<SystemTime>,
    length: Result<Duration, MediaError>,
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Probed>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Probed>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The file's length, from the cache or a probe.
fn length(path: &Path, bytes: u64, modified: Option<SystemTime>) -> Result<Duration, MediaError> {
    {
        let c = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = c.get(path) {
            if p.bytes == bytes && p.modified == modified {
                return p.length.clone();
            }
        }
    }
    // Probed without the lock: two pages at once may both probe a file.
    let length = media::probe(path).map(|i| i.duration);
    let mut c = cache().lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= CACHE_ENTRIES {
        c.clear();
    }
    c.insert(
        path.to_path_buf(),
        Probed {
            bytes,
            modified,
            length: length.clone(),
        },
    );
    length
}

/// Not a file of the library: hidden, or a file still being written.
fn skipped(name: &str) -> bool {
    const TEMP: &[&str] = &[".part", ".tmp", ".tmp-write", ".crdownload", ".swp", "~"];
    name.starts_with('.') || TEMP.iter().any(|t| name.ends_with(t))
}

/// Every file under `audio` (relative, `/`-separated, sorted), hidden
/// folders and files and temp names left out.
fn files(audio: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![audio.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if skipped(&name) {
                continue;
            }
            let p = e.path();
            // A linked folder is not followed (a loop would never end).
            match e.file_type() {
                Ok(t) if t.is_dir() => dirs.push(p),
                Ok(_) => {
                    if let Ok(rel) = p.strip_prefix(audio) {
                        out.push((rel.to_string_lossy().replace('\\', "/"), p));
                    }
                }
                Err(_) => {}
            }
            if out.len() >= WALK_LIMIT {
                break;
            }
        }
    }
    out.sort_by_cached_key(|(rel, _)| natural(rel));
    out
}

/// A sort key where `2` comes before `10` (`公告 2.mp3`, `公告 10.mp3`).
fn natural(s: &str) -> Vec<(String, u128)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            text.push(c);
            continue;
        }
        let mut n = u128::from(c as u8 - b'0');
        while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
            n = n.saturating_mul(10).saturating_add(u128::from(d));
            chars.next();
        }
        key.push((std::mem::take(&mut text), n));
    }
    key.push((text, 0));
    key
}

/// The first `max` audio files of `audio` with their lengths, and how
/// many more there are.
pub fn audio_entries(audio: &Path, lang: Lang, max: usize) -> (Vec<AudioEntry>, usize) {
    let all = files(audio);
    let more = all.len().saturating_sub(max);
    let entries = all
        .into_iter()
        .take(max)
        .map(|(file, path)| {
            let meta = std::fs::metadata(&path).ok();
            let bytes = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            let length = length(&path, bytes, modified);
            AudioEntry {
                seconds: length.as_ref().ok().map(Duration::as_secs_f64),
                bytes,
                playable: length.is_ok(),
                error: length.err().map(|e| e.to_msg(&file).render(lang)),
                file,
            }
        })
        .collect();
    (entries, more)
}

/// `m:ss`, or `h:mm:ss` from an hour.
fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Where "add to a schedule" goes for `file` (the form reads `add`).
fn add_link(lang: Lang, file: &str) -> String {
    let q = serde_urlencoded::to_string([("lang", lang.code()), ("add", file)]).unwrap_or_default();
    format!("/manage?{q}#add")
}

/// Filters the rows as the operator types; checks a chosen file's size
/// before it is sent (the server refuses it anyway, later).
const SCRIPT: &str = r#"
(function(){
var s=document.getElementById('library-search');
if(s){s.addEventListener('input',function(){var q=s.value.trim().toLowerCase();var n=0;
document.querySelectorAll('#library tr.audio').forEach(function(r){var ok=!q||r.dataset.name.toLowerCase().indexOf(q)>=0;r.hidden=!ok;if(ok)n++;});
var c=document.getElementById('library-count');if(c)c.textContent=n;});}
var f=document.getElementById('upload');
if(f){var w=document.getElementById('upload-warn');var i=f.querySelector('input[type=file]');
var big=function(){var x=i.files&&i.files[0];return x&&x.size>+f.dataset.max;};
var say=function(){if(big()){w.textContent=f.dataset.big;w.hidden=false;return true;}w.hidden=true;return false;};
i.addEventListener('change',say);
f.addEventListener('submit',function(e){if(say()){e.preventDefault();}});}
})();
"#;

/// The library: the upload form, the search box and one row per file.
pub(super) fn section(r: &Reading, _live: &Live, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let (entries, more) = audio_entries(&r.station.audio_dir(), lang, LIBRARY_ROWS);
    html! {
        section #library {
            h2 { (l("音频库", "Audio library")) }
            (upload_form(c))
            @if entries.is_empty() {
                p.muted { (l("音频文件夹里还没有文件：先上传一个。", "The audio folder is empty: upload a file first.")) }
            } @else {
                p {
                    label { (l("查找 ", "Search ")) input #library-search type="search" autocomplete="off" placeholder=(l("文件名", "file name")); }
                    " " span.muted { span #library-count { (entries.len()) } (l(" 个文件", " files")) }
                }
                div.scroll { table #library-table {
                    tr { th { (l("文件", "file")) } th { (l("时长", "length")) } th { (l("大小", "size")) } th {} th {} }
                    @for e in &entries { (row(e, c)) }
                } }
                @if more > 0 {
                    p.muted { (match lang {
                        Lang::Zh => format!("只列出前 {LIBRARY_ROWS} 个，还有 {more} 个文件（全部：/api/audio）"),
                        Lang::En => format!("the first {LIBRARY_ROWS} are listed; {more} more files (all: /api/audio)"),
                    }) }
                }
            }
            // The playable files, for the add-to-a-schedule form's choice
            // (`list="audio-files"` in `schedules.rs`).
            datalist #audio-files {
                @for e in entries.iter().filter(|e| e.playable) { option value=(e.file) {} }
            }
            script { (PreEscaped(SCRIPT)) }
        }
    }
}

fn row(e: &AudioEntry, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        tr.audio data-name=(e.file) {
            td.name title=(e.file) { (cut(&e.file, NAME)) }
            @match (e.seconds, &e.error) {
                (Some(s), _) => {
                    td { (clock(s)) }
                    td { (size(e.bytes)) }
                    td { (play_form(&e.file, c, l("播放", "Play"), "play-now")) }
                    td { a.add-to-schedule href=(add_link(lang, &e.file)) { (l("加入节目单", "Add to a schedule")) } }
                }
                (None, why) => {
                    td.s-failed { (l("无法播放", "cannot play")) }
                    td { (size(e.bytes)) }
                    td.s-failed colspan="2" title=(why.as_deref().unwrap_or_default()) {
                        (cut(why.as_deref().unwrap_or_default(), REASON))
                    }
                }
            }
        }
    }
}

/// A form playing `file` now at priority `important`.
fn play_form(file: &str, c: &Ctx<'_>, label: &str, class: &str) -> Markup {
    let (lang, o) = (c.lang, c.o);
    html! {
        form.play-now method="post" action="/play" {
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="csrf" value=(o.csrf);
            input type="hidden" name="name" value=(file);
            input type="hidden" name="priority" value="important";
            @if o.token_required {
                input.row-token type="password" name="token" size="6" placeholder=(lang.pick("口令", "token")) required;
            }
            button class=(class) type="submit" { (label) }
        }
    }
}

/// The upload form, with the size the page checks before sending.
fn upload_form(c: &Ctx<'_>) -> Markup {
    let (lang, o) = (c.lang, c.o);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let big = l(
        "文件太大（超过 100 MB）：请先压缩成 MP3 再上传。",
        "The file is too big (over 100 MB): compress it to MP3 first, then upload it.",
    );
    html! {
        form #upload method="post" action=(format!("/upload?lang={}", lang.code()))
            enctype="multipart/form-data" data-max=(MAX_UPLOAD) data-big=(big) {
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="csrf" value=(o.csrf);
            @if o.token_required {
                label { (l("口令 ", "token ")) input type="password" name="token" required; }
                " "
            }
            input type="file" name="file" required accept="audio/*,.mp3,.wav,.m4a,.ogg,.flac";
            " " button type="submit" { (l("上传", "Upload")) }
            p.muted { (l("MP3、WAV、M4A、OGG 或 FLAC，最大 100 MB、2 小时。", "MP3, WAV, M4A, OGG or FLAC, at most 100 MB and 2 hours.")) }
            p.err #upload-warn hidden { }
        }
    }
}

/// After an upload: play it now, or add it to a schedule.
pub(super) fn next_steps(c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        @if let Some(file) = &c.o.uploaded {
            div #upload-next {
                (play_form(file, c, l("立即播放", "Play now"), "play-uploaded"))
                " "
                a.add-to-schedule href=(add_link(lang, file)) { (l("加入节目单", "Add to a schedule")) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_sizes_read_as_people_write_them() {
        assert_eq!(clock(0.4), "0:00");
        assert_eq!(clock(65.0), "1:05");
        assert_eq!(clock(3599.6), "1:00:00");
        assert_eq!(clock(7325.0), "2:02:05");
        assert_eq!(size(900), "900 B");
        assert_eq!(size(2048), "2 KB");
        assert_eq!(size(5 * 1024 * 1024 + 100_000), "5.1 MB");
    }

    #[test]
    fn hidden_and_temp_files_are_not_in_the_library() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "b.mp3",
            "子/a.wav",
            ".hidden.mp3",
            ".x/c.mp3",
            "d.mp3.part",
            "e.tmp-write",
        ] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let names: Vec<String> = files(d.path()).into_iter().map(|f| f.0).collect();
        assert_eq!(names, ["b.mp3", "子/a.wav"]);
        let mut v = [
            "公告 10.mp3",
            "公告 2.mp3",
            "公告 1.mp3",
            "a.mp3",
            "公告.mp3",
        ];
        v.sort_by_cached_key(|s| natural(s));
        assert_eq!(
            v,
            [
                "a.mp3",
                "公告 1.mp3",
                "公告 2.mp3",
                "公告 10.mp3",
                "公告.mp3"
            ]
        );
    }
}

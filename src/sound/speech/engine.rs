//! Running espeak-ng as a separate program (GPL: never linked): whether it
//! and its voice are there, and speaking a notice into a WAV file of the
//! cache, checked and moved into place atomically.
//! It must not decide when a notice plays, nor read what the operator
//! typed anywhere but from its argument.

use super::cache;
use super::{io_error, normalise, Rendered, SpeechError, Voice, MAX_NOTICE_CHARS};
use crate::sound::media;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long `--version` and the voice check may take.
const QUICK: Duration = Duration::from_secs(10);

/// Checks that the program runs and has the voice: cheap (two short runs,
/// no sound made), so `check` and the operator's page can call it.
///
/// # Errors
/// [`SpeechError::EngineMissing`] when the program cannot be started,
/// [`SpeechError::VoiceMissing`] when it lacks the voice, or another
/// [`SpeechError`] when it fails.
pub fn engine_ready(v: &Voice) -> Result<(), SpeechError> {
    engine_version(v)?;
    let args = voice_args(v);
    let ran = run(
        v,
        &[&args[..], &["-q".into(), "-x".into()]].concat(),
        "一",
        QUICK,
    )?;
    if !ran.status.success() {
        return Err(failure(v, ran.status, &ran.stderr));
    }
    Ok(())
}

/// Speaks `text` into a WAV file under `cache_dir` and returns it. The same
/// words with the same voice, speed, loudness and engine version come from
/// the cache without running the engine again. It blocks (the engine runs
/// for about 0.1 s per 100 characters, at most 30 s + 0.2 s a character):
/// call it from a blocking thread, not the async runtime.
///
/// # Errors
/// [`SpeechError::Empty`] and [`SpeechError::TooLong`] before anything
/// runs; then why the engine could not speak it or the file not be saved.
pub fn render(v: &Voice, text: &str, cache_dir: &Path) -> Result<Rendered, SpeechError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SpeechError::Empty);
    }
    let chars = text.chars().count();
    if chars > MAX_NOTICE_CHARS {
        return Err(SpeechError::TooLong {
            chars,
            max: MAX_NOTICE_CHARS,
        });
    }
    let words = normalise(text);
    let version = engine_version(v)?;
    let settings = format!("{}\0{}\0{}", v.voice, rate(v), amplitude(v));
    let path = cache_dir.join(cache::file_name(&words, &settings, &version));
    std::fs::create_dir_all(cache_dir).map_err(|e| io_error("create", cache_dir, &e))?;
    if let Some(duration) = cache::hit(&path) {
        tracing::debug!(path = %path.display(), "spoken notice from the cache");
        return Ok(Rendered {
            path,
            duration,
            cached: true,
        });
    }
    let started = Instant::now();
    let duration = synthesise(v, &words, &path)?;
    tracing::info!(
        path = %path.display(),
        chars,
        audio_ms = duration.as_millis() as u64,
        render_ms = started.elapsed().as_millis() as u64,
        "spoke a notice"
    );
    cache::prune(cache_dir, &path, cache::MAX_FILES, cache::MAX_BYTES);
    Ok(Rendered {
        path,
        duration,
        cached: false,
    })
}

/// Runs the engine into a temporary file beside `path`, checks the sound,
/// syncs it and renames it into place. Returns its duration.
fn synthesise(v: &Voice, words: &str, path: &Path) -> Result<Duration, SpeechError> {
    let tmp = cache::Temp::beside(path);
    let limit = Duration::from_secs(30) + Duration::from_millis(200) * words.chars().count() as u32;
    let mut args = voice_args(v);
    args.extend(["-w".into(), tmp.path().as_os_str().to_owned()]);
    let ran = run(v, &args, words, limit)?;
    if !ran.status.success() {
        return Err(failure(v, ran.status, &ran.stderr));
    }
    let info = media::probe(tmp.path()).map_err(|e| SpeechError::BadOutput(e.to_string()))?;
    tmp.commit(path)?;
    Ok(info.duration)
}

/// The arguments that choose the voice and delivery, text from stdin as
/// UTF-8 (`-b 1`): never on the command line, where a notice starting with
/// `-` would be an option and `ps` would show it.
fn voice_args(v: &Voice) -> Vec<OsString> {
    vec![
        "-v".into(),
        v.voice.clone().into(),
        "-s".into(),
        rate(v).to_string().into(),
        "-a".into(),
        amplitude(v).to_string().into(),
        "-b".into(),
        "1".into(),
    ]
}

/// espeak's speed, within what it accepts.
fn rate(v: &Voice) -> u32 {
    v.rate.clamp(80, 450)
}

/// espeak's amplitude: volume 1.0 is 100, clamped to 0..=200.
fn amplitude(v: &Voice) -> u32 {
    let vol = if v.volume.is_finite() { v.volume } else { 1.0 };
    (vol.clamp(0.0, 2.0) * 100.0).round() as u32
}

/// The engine's version line (it names the data folder too), or why the
/// engine does not run.
fn engine_version(v: &Voice) -> Result<String, SpeechError> {
    let ran = run(v, &["--version".into()], "", QUICK)?;
    if !ran.status.success() {
        return Err(failure(v, ran.status, &ran.stderr));
    }
    Ok(ran
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string())
}

fn failure(v: &Voice, status: ExitStatus, stderr: &str) -> SpeechError {
    if stderr.contains("voice does not exist") {
        return SpeechError::VoiceMissing {
            voice: v.voice.clone(),
        };
    }
    SpeechError::Failed {
        status: status.to_string(),
        stderr: stderr.trim().chars().take(500).collect(),
    }
}

struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs the engine with `input` on its stdin, killing it after `limit`.
fn run(v: &Voice, args: &[OsString], input: &str, limit: Duration) -> Result<Ran, SpeechError> {
    let mut child = Command::new(&v.engine)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                SpeechError::EngineMissing {
                    program: v.engine.display().to_string(),
                }
            }
            _ => io_error("start", &v.engine, &e),
        })?;
    // Threads feed and drain the pipes, so a full pipe never blocks either
    // side; the writer's drop closes stdin, which ends espeak's input.
    let stdin = child.stdin.take();
    let input = input.to_owned();
    let writer = thread::spawn(move || {
        if let Some(mut pipe) = stdin {
            let _ = pipe.write_all(input.as_bytes());
        }
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    // std has no wait-with-timeout: a short poll is the portable way, and
    // costs nothing next to the synthesis it waits for.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(program = %v.engine.display(), secs = limit.as_secs(), "espeak-ng killed");
                return Err(SpeechError::TimedOut {
                    secs: limit.as_secs(),
                });
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(io_error("wait for", &v.engine, &e)),
        }
    };
    let _ = writer.join();
    Ok(Ran {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

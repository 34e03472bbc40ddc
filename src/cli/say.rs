//! `cunxiang say TEXT --wav FILE`: reads a typed notice into a WAV file
//! with the station's `[speech]` voice, without a daemon and without the
//! notice cache (each run renders afresh, so it also times the engine).
//! `cunxiang say TEXT` without `--wav` asks the running daemon
//! (`remote::play`). Rendering only: the engine is `sound::speech`.

use crate::config::load::Station;
use crate::config::schedule::notice_text;
use crate::daemon::notice;
use crate::i18n::Lang;
use crate::sound::speech;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Renders `text` into `wav`; says how long it is and how long it took.
///
/// # Errors
/// Only when writing to `out`/`err` fails.
pub fn say_to_wav(
    station_dir: &Path,
    lang: Lang,
    text: &str,
    wav: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let text = match notice_text(text) {
        Ok(t) => t,
        Err(m) => {
            writeln!(err, "cunxiang: {}", m.render(lang))?;
            return Ok(crate::EXIT_CONFIG);
        }
    };
    let station = Station::load(station_dir);
    let voice = notice::voice(&station.config);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let scratch = std::env::temp_dir().join(format!("cunxiang-say-{}-{nanos}", std::process::id()));
    let started = Instant::now();
    let rendered = std::fs::create_dir_all(&scratch)
        .map_err(|e| speech::SpeechError::Io(e.to_string()))
        .and_then(|()| speech::render(&voice, &text, &scratch));
    let took = started.elapsed();
    let result = rendered.and_then(|r| {
        std::fs::copy(&r.path, wav)
            .map(|_| r)
            .map_err(|e| speech::SpeechError::Io(format!("{}: {e}", wav.display())))
    });
    let _ = std::fs::remove_dir_all(&scratch);
    match result {
        Ok(r) => {
            let (secs, took) = (r.duration.as_secs_f64(), took.as_secs_f64());
            match lang {
                Lang::Zh => writeln!(
                    out,
                    "已朗读到 {}：时长 {secs:.1} 秒，用时 {took:.2} 秒",
                    wav.display()
                )?,
                Lang::En => writeln!(
                    out,
                    "read into {}: {secs:.1} s long, rendered in {took:.2} s",
                    wav.display()
                )?,
            }
            Ok(crate::EXIT_OK)
        }
        Err(e) => {
            writeln!(err, "cunxiang: {}", e.to_msg().render(lang))?;
            Ok(crate::EXIT_FINDINGS)
        }
    }
}

//! Audio files on disk: probing them (format, duration, rate, channels) so a
//! missing, empty or undecodable file is found before air time, and the
//! built-in chime.
//! It reads files; it must not play them (`output`) nor decide whether a
//! finding stops a broadcast (`check` and the daemon do).

use crate::i18n::Msg;
use crate::plan::chime;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// What a probe learned about a playable file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MediaInfo {
    /// Codec short name (`mp3`, `pcm_s16le`, ...).
    pub codec: String,
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    pub sample_rate: u32,
    pub channels: u16,
}

/// Why a file cannot play.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    #[error("file not found")]
    Missing,
    #[error("leads outside the audio folder (a link)")]
    Outside,
    #[error("is a folder")]
    NotAFile,
    #[error("is not a regular file (a pipe or a device), not an audio file")]
    NotRegular,
    #[error("file is empty")]
    Empty,
    #[error("cannot decode: {0}")]
    Undecodable(String),
}

impl MediaError {
    /// The operator-facing message for a file shown as `shown`.
    pub fn to_msg(&self, shown: &str) -> Msg {
        let path = visible(shown);
        match self {
            MediaError::Missing => Msg::FileMissing { path },
            MediaError::Outside => Msg::FileOutside { path },
            MediaError::NotAFile => Msg::NotAFile { path },
            MediaError::NotRegular => Msg::NotRegularFile { path },
            MediaError::Empty => Msg::FileEmpty { path },
            MediaError::Undecodable(detail) => Msg::FileUndecodable {
                path,
                detail: detail.clone(),
            },
        }
    }
}

mod duration_ms {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// A path as a person can read it: control characters (a NUL byte, a line
/// break) written as escapes, never raw, so a shown name cannot pass for
/// another.
pub fn visible(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Whether `rel` names something under a folder without leaving it:
/// relative, no `..`, no root or drive prefix. Checked on the text alone, so
/// a refused path is never opened.
pub fn is_plain_relative(rel: &str) -> bool {
    use std::path::Component;
    let p = Path::new(rel);
    !rel.trim().is_empty()
        && !rel.contains('\\')
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Joins a schedule path to the audio folder, refusing anything that would
/// leave it (also through symlinks).
///
/// # Errors
/// [`MediaError::Missing`] when the file is not there,
/// [`MediaError::Outside`] when it resolves outside the folder.
pub fn resolve_under(audio_dir: &Path, rel: &str) -> Result<PathBuf, MediaError> {
    let joined = audio_dir.join(rel);
    let real = joined.canonicalize().map_err(|_| MediaError::Missing)?;
    let root = audio_dir.canonicalize().map_err(|_| MediaError::Missing)?;
    if !real.starts_with(&root) {
        return Err(MediaError::Outside);
    }
    Ok(real)
}

/// A regular file with something in it, or why not.
fn plain_file(path: &Path) -> Result<(), MediaError> {
    let meta = std::fs::metadata(path).map_err(|_| MediaError::Missing)?;
    if meta.is_dir() {
        return Err(MediaError::NotAFile);
    }
    // A pipe or a device would block the reader or read for ever.
    if !meta.is_file() {
        return Err(MediaError::NotRegular);
    }
    if meta.len() == 0 {
        return Err(MediaError::Empty);
    }
    Ok(())
}

/// Probes a file: headers, then the first packets are decoded to prove the
/// codec works. The duration comes from the headers when they carry it,
/// else from the packet timestamps (no samples are decoded for that).
///
/// # Errors
/// A [`MediaError`] saying why the file cannot play.
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    plain_file(path)?;
    let (mut format, track, mut decoder) = open_track(path)?;
    let params = &track.codec_params;
    let codec = symphonia::default::get_codecs()
        .get_codec(params.codec)
        .map_or_else(|| "unknown".to_string(), |d| d.short_name.to_string());
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.map_or(0, |c| c.count() as u16);

    // Decode until the first good frame; count packet durations meanwhile.
    let mut frames: u64 = 0;
    let mut decoded_ok = false;
    let mut last_err = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => {
                last_err = Some(short_error(&e));
                break;
            }
        };
        if packet.track_id() != track.id {
            continue;
        }
        frames += packet.dur;
        if !decoded_ok {
            match decoder.decode(&packet) {
                Ok(buf) => {
                    let spec = buf.spec();
                    sample_rate = spec.rate;
                    channels = spec.channels.count() as u16;
                    decoded_ok = buf.frames() > 0 || decoded_ok;
                    if decoded_ok && params.n_frames.is_some() {
                        break;
                    }
                }
                Err(SymError::DecodeError(e)) => last_err = Some(e.to_string()),
                Err(e) => {
                    last_err = Some(short_error(&e));
                    break;
                }
            }
        }
    }
    if !decoded_ok {
        return Err(MediaError::Undecodable(
            last_err.unwrap_or_else(|| "no audio data".into()),
        ));
    }
    let total = params.n_frames.unwrap_or(frames);
    let duration = match (params.time_base, sample_rate) {
        (Some(tb), _) if params.n_frames.is_some() || frames > 0 => {
            let t = tb.calc_time(total);
            Duration::from_secs(t.seconds) + Duration::from_secs_f64(t.frac)
        }
        (_, r) if r > 0 => Duration::from_secs_f64(total as f64 / r as f64),
        _ => Duration::ZERO,
    };
    if duration.is_zero() {
        return Err(MediaError::Undecodable("no audio data".into()));
    }
    Ok(MediaInfo {
        codec,
        duration,
        sample_rate,
        channels,
    })
}

/// Decodes a whole file (every sample, nothing kept) to prove it plays to
/// the end: catches truncated or corrupt files that a header probe misses.
/// Returns the decoded length.
///
/// # Errors
/// [`MediaError::Undecodable`] with where it broke, or when the decoded
/// length falls short of what the header promised.
pub fn decode_all(path: &Path) -> Result<Duration, MediaError> {
    decode_up_to(path, None).map(|d| d.unwrap_or_default())
}

/// [`decode_all`], stopping once more than `most` is decoded: `Ok(None)`
/// then. A file whose header understates its length (a hostile upload
/// saying 60 s over hours of frames) costs no more than `most` of
/// decoding.
///
/// # Errors
/// As [`decode_all`].
pub fn decode_up_to(path: &Path, most: Option<Duration>) -> Result<Option<Duration>, MediaError> {
    let (mut format, track, mut decoder) = open_track(path)?;
    let rate = track.codec_params.sample_rate.unwrap_or(0).max(1) as f64;
    let most_frames = most.map(|d| (d.as_secs_f64() * rate) as u64);
    let mut frames: u64 = 0;
    let mut bad = 0u32;
    loop {
        if most_frames.is_some_and(|m| frames > m) {
            return Ok(None);
        }
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => {
                return Err(MediaError::Undecodable(format!(
                    "{} at {:.1}s",
                    short_error(&e),
                    frames as f64 / rate
                )))
            }
        };
        if packet.track_id() != track.id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => frames += buf.frames() as u64,
            Err(SymError::DecodeError(e)) => {
                bad += 1;
                if bad > 10 {
                    return Err(MediaError::Undecodable(format!(
                        "corrupt data at {:.1}s: {e}",
                        frames as f64 / rate
                    )));
                }
            }
            Err(e) => {
                return Err(MediaError::Undecodable(format!(
                    "{} at {:.1}s",
                    short_error(&e),
                    frames as f64 / rate
                )))
            }
        }
    }
    let decoded = frames as f64 / rate;
    if let Some(n) = track.codec_params.n_frames {
        let promised = n as f64 / rate;
        if decoded + 1.0 < promised * 0.98 {
            return Err(MediaError::Undecodable(format!(
                "truncated: only {decoded:.1}s of {promised:.1}s decode"
            )));
        }
    }
    if frames == 0 {
        return Err(MediaError::Undecodable("no audio data".into()));
    }
    Ok(Some(Duration::from_secs_f64(decoded)))
}

type Opened = (
    Box<dyn symphonia::core::formats::FormatReader>,
    symphonia::core::formats::Track,
    Box<dyn symphonia::core::codecs::Decoder>,
);

/// Opens a file's container and the decoder of its first audio track.
fn open_track(path: &Path) -> Result<Opened, MediaError> {
    let file = File::open(path).map_err(|e| MediaError::Undecodable(e.to_string()))?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let und = |e: SymError| MediaError::Undecodable(short_error(&e));
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(und)?;
    let format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| MediaError::Undecodable("no audio track".into()))?
        .clone();
    let decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(und)?;
    Ok((format, track, decoder))
}

fn short_error(e: &SymError) -> String {
    match e {
        SymError::Unsupported(_) => "not a supported audio format".to_string(),
        other => other.to_string(),
    }
}

/// The built-in "ding-dong": two decaying sine notes, mono, at
/// [`chime::RATE`], peak about -6 dBFS.
pub fn builtin_chime_samples() -> Vec<f32> {
    let rate = chime::RATE as f32;
    let mut out = vec![0.0f32; chime::len()];
    for (freq, start) in chime::NOTES {
        let s0 = (start * rate) as usize;
        let n = (chime::NOTE_LEN * rate) as usize;
        for i in 0..n {
            let Some(slot) = out.get_mut(s0 + i) else {
                break;
            };
            let t = i as f32 / rate;
            let attack = (t / 0.01).min(1.0);
            let env = attack * (-4.0 * t).exp();
            *slot += 0.5 * env * (2.0 * std::f32::consts::PI * freq * t).sin();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_only() {
        for ok in ["a.mp3", "通知/停水.mp3", "./a.mp3", "a/./b.wav"] {
            assert!(is_plain_relative(ok), "{ok}");
        }
        for bad in [
            "",
            " ",
            "../a.mp3",
            "a/../../b.mp3",
            "a/..",
            "/etc/passwd",
            "..\\a.mp3",
            "C:\\x.mp3",
        ] {
            assert!(!is_plain_relative(bad), "{bad}");
        }
    }

    #[test]
    fn builtin_chime_is_audible_and_bounded() {
        let s = builtin_chime_samples();
        assert_eq!(
            s.len() as f64 / chime::RATE as f64,
            chime::duration().as_secs_f64()
        );
        let peak = s.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak > 0.3 && peak <= 1.0, "peak {peak}");
    }

    #[test]
    fn probe_rejects_empty_missing_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e.mp3");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(probe(&empty), Err(MediaError::Empty));
        assert_eq!(
            probe(&dir.path().join("none.mp3")),
            Err(MediaError::Missing)
        );
        assert_eq!(probe(dir.path()), Err(MediaError::NotAFile));
        let text = dir.path().join("t.mp3");
        std::fs::write(&text, "这不是音频文件 this is not audio\n".repeat(50)).unwrap();
        assert!(matches!(probe(&text), Err(MediaError::Undecodable(_))));
    }

    #[test]
    fn decoding_stops_past_the_limit() {
        // 3 s of 8 kHz mono 16-bit silence, as a plain WAV.
        let (rate, secs) = (8000u32, 3u32);
        let data = rate * secs * 2;
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        for v in [16u32, 1 | (1 << 16), rate, rate * 2, 2 | (16 << 16)] {
            wav.extend_from_slice(&v.to_le_bytes());
        }
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&data.to_le_bytes());
        wav.resize(wav.len() + data as usize, 0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wav");
        std::fs::write(&path, wav).unwrap();
        assert_eq!(decode_up_to(&path, Some(Duration::from_secs(1))), Ok(None));
        let whole = decode_up_to(&path, Some(Duration::from_secs(10)))
            .unwrap()
            .unwrap();
        assert!((whole.as_secs_f64() - 3.0).abs() < 0.01, "{whole:?}");
        assert_eq!(decode_all(&path).unwrap(), whole);
    }
}

//! Helpers shared by the integration tests: temporary station folders with
//! generated audio, and running the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A station folder in a temp dir that is removed when dropped.
pub struct TempStation {
    pub dir: tempfile::TempDir,
}

impl TempStation {
    /// An empty station with `audio/` and `schedules/` folders.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("audio")).unwrap();
        std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
        TempStation { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the station folder (parents created).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Writes a schedule file `schedules/NAME`.
    pub fn schedule(&self, name: &str, text: &str) -> PathBuf {
        self.write(&format!("schedules/{name}"), text)
    }

    /// Writes a real WAV of `secs` seconds under `audio/`.
    pub fn wav(&self, rel: &str, secs: f32) -> PathBuf {
        self.write(&format!("audio/{rel}"), wav_bytes(8000, secs))
    }
}

/// A mono 16-bit PCM WAV holding a quiet 440 Hz tone.
pub fn wav_bytes(rate: u32, secs: f32) -> Vec<u8> {
    let frames = (rate as f32 * secs) as u32;
    let data_len = frames * 2;
    let mut v = Vec::with_capacity(44 + data_len as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 2).to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = ((i as f32 * 440.0 * 2.0 * std::f32::consts::PI / rate as f32).sin() * 8000.0) as i16;
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}

/// The repository's own sample station.
pub fn sample_station() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real `cunxiang` binary, with a neutral environment (no locale, no
/// station variable) so tests choose the language explicitly.
pub fn cunxiang() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("cunxiang").expect("binary");
    c.env_remove("CUNXIANG_STATION").env_remove("CUNXIANG_LANG").env_remove("LC_ALL").env_remove("LC_MESSAGES").env("LANG", "C.UTF-8");
    c
}

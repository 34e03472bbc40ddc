//! The outputs that discard samples at real-time pace: `null`, and
//! `capture`, which also records what played and when (JSON lines), for
//! tests and for a station without a sound card. They open no device.

use super::{open_source, BoxSource, ItemKind, Output, OutputError, PlayItem};
use crate::clock::Clock;
use chrono::{DateTime, SecondsFormat, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Pulls samples from `src` at real-time pace on `clock`, in 10 ms chunks.
/// Returns whether it reached the end (false: cancelled) and how much
/// audio it pulled.
pub(super) fn pace(
    src: &mut BoxSource,
    clock: &dyn Clock,
    cancel: &dyn Fn() -> bool,
) -> (bool, Duration) {
    let rate = src.sample_rate().get() as u64;
    let channels = src.channels().get() as u64;
    let chunk = (rate * channels / 100).max(1);
    let start = clock.monotonic();
    let mut samples: u64 = 0;
    loop {
        let mut n = 0;
        while n < chunk {
            if src.next().is_none() {
                break;
            }
            n += 1;
        }
        samples += n;
        let offset = Duration::from_nanos(samples * 1_000_000_000 / (rate * channels));
        if n == 0 {
            return (true, offset);
        }
        if !clock.pace_until(start + offset, cancel) {
            return (false, offset);
        }
        if n < chunk {
            return (true, offset);
        }
    }
}

/// Discards samples at real-time pace.
pub struct NullOutput {
    clock: Arc<dyn Clock>,
    decoded: Option<Duration>,
}

impl NullOutput {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        NullOutput {
            clock,
            decoded: None,
        }
    }
}

impl Output for NullOutput {
    fn name(&self) -> String {
        "null".into()
    }

    fn play(
        &mut self,
        item: &PlayItem,
        _broadcast: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        let mut src = open_source(item)?;
        started(self.clock.now());
        let (done, decoded) = pace(&mut src, self.clock.as_ref(), cancel);
        self.decoded = Some(decoded);
        Ok(done)
    }

    fn last_decoded(&self) -> Option<Duration> {
        self.decoded
    }
}

/// One line of a capture file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaptureRecord {
    /// When the first sample was handed over (RFC 3339, ms).
    pub at: String,
    pub broadcast: String,
    pub file: String,
    pub kind: String,
    pub duration_ms: u64,
}

/// Discards at real-time pace and appends one JSON line per item to a file,
/// written when the item's first sample is handed over.
pub struct CaptureOutput {
    clock: Arc<dyn Clock>,
    path: PathBuf,
    decoded: Option<Duration>,
}

impl CaptureOutput {
    pub fn new(clock: Arc<dyn Clock>, path: &Path) -> Self {
        CaptureOutput {
            clock,
            path: path.to_path_buf(),
            decoded: None,
        }
    }

    fn record(&self, rec: &CaptureRecord) -> Result<(), OutputError> {
        let err = |e: std::io::Error| OutputError::Capture {
            path: self.path.clone(),
            detail: e.to_string(),
        };
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        let mut line = serde_json::to_string(rec).expect("json");
        line.push('\n');
        f.write_all(line.as_bytes()).map_err(err)?;
        f.flush().map_err(err)
    }
}

impl Output for CaptureOutput {
    fn name(&self) -> String {
        format!("capture:{}", self.path.display())
    }

    fn play(
        &mut self,
        item: &PlayItem,
        broadcast: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        let mut src = open_source(item)?;
        let at = self.clock.now();
        self.record(&CaptureRecord {
            at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            broadcast: broadcast.to_string(),
            file: item.label.clone(),
            kind: match item.kind {
                ItemKind::Chime => "chime",
                ItemKind::Content => "content",
                ItemKind::Gap => "gap",
                ItemKind::Relay => "relay",
            }
            .into(),
            duration_ms: item.duration.as_millis() as u64,
        })?;
        started(at);
        let (done, decoded) = pace(&mut src, self.clock.as_ref(), cancel);
        self.decoded = Some(decoded);
        Ok(done)
    }

    fn last_decoded(&self) -> Option<Duration> {
        self.decoded
    }

    /// The capture file, when there is one, can be appended to (a
    /// directory or an unwritable file there is a failed output).
    fn check(&mut self) -> Result<(), OutputError> {
        if !self.path.exists() {
            return Ok(());
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map(drop)
            .map_err(|e| OutputError::Capture {
                path: self.path.clone(),
                detail: e.to_string(),
            })
    }
}

//! The typed values of the station file: quiet hours, the output device,
//! the monitor input and settings, IP terminals. Each parses from its text
//! form and shows itself the same way; none opens a device or a socket.

use crate::config::schedule::parse_time;
use chrono::NaiveTime;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A daily span when routine broadcasts stay silent; may wrap midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Parses `"22:00-06:00"`.
    pub fn parse(s: &str) -> Option<QuietHours> {
        let s = s.replace(['–', '—', '～', '~', '至'], "-");
        let (a, b) = s.split_once('-')?;
        let q = QuietHours {
            start: parse_time(a)?,
            end: parse_time(b)?,
        };
        (q.start != q.end).then_some(q)
    }

    /// Whether a local time of day falls inside (start inclusive, end
    /// exclusive).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// Where sound goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// The default sound device, or one by name.
    Rodio(Option<String>),
    /// Discards samples at real-time pace.
    Null,
    /// Discards at real-time pace and records what played to a file.
    Capture(PathBuf),
}

impl OutputSpec {
    /// Parses `rodio`, `rodio:NAME`, `null`, `capture:PATH`.
    pub fn parse(s: &str) -> Option<OutputSpec> {
        let s = s.trim();
        match s.split_once(':') {
            None if s == "rodio" || s == "default" => Some(OutputSpec::Rodio(None)),
            None if s == "null" => Some(OutputSpec::Null),
            Some(("rodio", name)) if !name.is_empty() => {
                Some(OutputSpec::Rodio(Some(name.to_string())))
            }
            Some(("capture", path)) if !path.is_empty() => {
                Some(OutputSpec::Capture(PathBuf::from(path)))
            }
            _ => None,
        }
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputSpec::Rodio(None) => f.write_str("rodio"),
            OutputSpec::Rodio(Some(n)) => write!(f, "rodio:{n}"),
            OutputSpec::Null => f.write_str("null"),
            OutputSpec::Capture(p) => write!(f, "capture:{}", p.display()),
        }
    }
}

/// Proof of air: where the monitor input comes from and when silence is a
/// fault.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    pub input: MonitorSpec,
    /// A window under this RMS level (dBFS) is silence.
    pub silence_db: f32,
    /// Silence this long while we play is a `signal` outage.
    pub silence_after: Duration,
    /// A daily self-test (the built-in chime) at this local time.
    pub self_test: Option<NaiveTime>,
}

/// `[relay]`: when a relayed source counts as lost. `None` values follow
/// `[monitor]` (silence) or the built-in defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelayConfig {
    /// No data from the source this long: lost.
    pub no_data_after: Option<Duration>,
    /// Sound under this level (dBFS) is silence.
    pub silence_db: Option<f32>,
    /// Silence this long: lost.
    pub silence_after: Option<Duration>,
    /// The longest wait between reconnects.
    pub reconnect_max: Option<Duration>,
}

/// `[speech]`: how typed notices are read aloud (文字广播). `None` values
/// take the engine's defaults (`sound::speech::Voice::default`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeechConfig {
    /// The text-to-speech program (default `espeak-ng`, found on `PATH`).
    pub engine: Option<String>,
    /// Its voice (default `cmn-latn-pinyin`, Mandarin).
    pub voice: Option<String>,
    /// Words a minute (80–300).
    pub rate: Option<u32>,
    /// Loudness, 0.0–2.0 (1.0 = the engine's normal).
    pub volume: Option<f32>,
}

/// How a terminal is asked whether it is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A TCP connection is accepted.
    Tcp,
    /// `GET path` answers 2xx.
    Http(String),
}

/// An IP loudspeaker (网络音柱) the PC watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    pub name: String,
    /// Where it stands (村东头), shown in the repair list.
    pub location: String,
    /// `host:port`.
    pub address: String,
    pub probe: Probe,
    pub interval: Duration,
    /// Failed probes in a row before it counts as down.
    pub failures: u32,
}

impl TerminalConfig {
    /// The outage subject: name and location.
    pub fn subject(&self) -> String {
        if self.location.is_empty() {
            self.name.clone()
        } else {
            format!("{}（{}）", self.name, self.location)
        }
    }
}

/// Where monitor samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorSpec {
    /// A capture device through cpal: the default one, or by name.
    Device(Option<String>),
    /// A WAV (any format rodio decodes) read at real-time pace, looping.
    File(PathBuf),
}

impl MonitorSpec {
    /// `rodio`, `rodio:NAME` or `file:PATH`.
    pub fn parse(s: &str) -> Option<MonitorSpec> {
        let s = s.trim();
        match s.split_once(':') {
            None if s == "rodio" => Some(MonitorSpec::Device(None)),
            Some(("rodio", n)) if !n.trim().is_empty() => {
                Some(MonitorSpec::Device(Some(n.trim().to_string())))
            }
            Some(("file", p)) if !p.trim().is_empty() => {
                Some(MonitorSpec::File(PathBuf::from(p.trim())))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for MonitorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorSpec::Device(None) => f.write_str("rodio"),
            MonitorSpec::Device(Some(n)) => write!(f, "rodio:{n}"),
            MonitorSpec::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

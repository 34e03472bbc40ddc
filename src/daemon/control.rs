//! What enters the run loop from outside (the web face, the file watcher,
//! tests): the control requests and their answers, and what a face is
//! given. Types only; nothing here acts.

use super::live::Live;
use crate::clock::Clock;
use crate::config::diag::Diagnostic;
use crate::config::schedule::Priority;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Requests from outside the run loop (file watcher, tests, the HTTP API).
#[derive(Debug)]
pub enum Control {
    /// Re-read the station and schedules.
    Reload,
    /// Re-read, and answer with the errors found.
    ReloadReport(oneshot::Sender<Vec<Diagnostic>>),
    /// A person asks for something to go on air now.
    Play(
        PlayRequest,
        oneshot::Sender<Result<PlayAccepted, PlayRefused>>,
    ),
    /// A person stops the play on air; answers with its name.
    Stop(oneshot::Sender<Option<String>>),
}

/// What a person asked to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayTarget {
    /// A broadcast of the schedules, by name.
    Broadcast(String),
    /// A file, relative to the audio folder.
    File(String),
    /// A broadcast if one has this name, else a file.
    Either(String),
    /// A typed notice, read aloud now (checked: [`notice_text`](crate::config::schedule::notice_text)).
    Say(String),
    /// A live source, relayed for `length` from now.
    Relay {
        source: crate::config::schedule::RelaySource,
        length: std::time::Duration,
    },
}

/// A manual play: what, how urgent (default: the broadcast's own, or
/// normal for a file) and how many times (default: the broadcast's own, or
/// once).
#[derive(Debug, Clone)]
pub struct PlayRequest {
    pub target: PlayTarget,
    pub priority: Option<Priority>,
    pub repeat: Option<u32>,
}

/// A manual play taken: its name and instant in the as-run log, and
/// whether it is on air, cutting a lower priority, or waiting its turn.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlayAccepted {
    pub broadcast: String,
    pub scheduled_at: DateTime<Utc>,
    pub priority: Priority,
    /// `playing`, `interrupting` or `queued`.
    pub state: &'static str,
}

/// Why a manual play was refused (nothing is logged for it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlayRefused {
    #[error("no broadcast is named {0:?}")]
    UnknownBroadcast(String),
    #[error("{0:?} is not a plain path under the audio folder")]
    OutsideAudio(String),
    #[error("{file}: {detail}")]
    CannotPlay { file: String, detail: String },
    #[error("no broadcast or audio file is named {0:?}")]
    NotFound(String),
    #[error("repeat must be between 1 and 20")]
    BadRepeat,
}

/// What a face is given when the daemon starts it: where the station is,
/// the clock, the control channel into the run loop and the published
/// live view.
pub struct FaceParts {
    pub station_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub control: mpsc::Sender<Control>,
    pub live: watch::Receiver<Live>,
    /// Notes each `/metrics` answer; says when the daemon is stopping.
    pub scrapes: Arc<super::Scrapes>,
}

/// See [`RunConfig::face`]: starts serving, says where, and hands back the
/// task to stop at shutdown.
pub type Face = Box<
    dyn FnOnce(FaceParts) -> std::io::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>
        + Send,
>;

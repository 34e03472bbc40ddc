//! The player thread: it owns the one output and plays one job (a
//! firing's items) at a time, reporting starts and ends over a channel.
//! It must not decide what plays next (the daemon's queue does) and never
//! blocks the async runtime.

use super::{ItemKind, ItemSource, Output, OutputError, PlayItem};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A firing's items, handed to the player thread.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub broadcast: String,
    pub items: Vec<PlayItem>,
    /// Resume point after an interruption.
    pub start_index: usize,
    pub cancel: Arc<AtomicBool>,
    /// Not a play: only see whether the output works ([`Output::check`]).
    /// Sent as a job so the probe runs on the thread that owns the output.
    pub check: bool,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResult {
    Completed,
    /// Stopped before item `index` finished.
    Cancelled {
        index: usize,
    },
    Failed {
        index: usize,
        error: String,
        device: bool,
    },
}

/// What the player thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    ItemStarted {
        job: u64,
        index: usize,
        at: DateTime<Utc>,
    },
    Finished {
        job: u64,
        result: JobResult,
        at: DateTime<Utc>,
    },
}

/// Whether a file that played `took` of an expected `expected` ended far
/// too early: truncated or replaced while on air. Generous, because a
/// length probed from a header (VBR MP3) is only an estimate.
pub fn ended_early(took: Duration, expected: Duration) -> bool {
    took + Duration::from_secs(2) < expected && took < expected / 2
}

/// Starts the player thread: it owns the output and plays one job at a
/// time, reporting over `events`. Dropping the returned sender ends it.
pub fn spawn_player(
    output: Box<dyn Output>,
    clock: Arc<dyn Clock>,
    events: tokio::sync::mpsc::UnboundedSender<PlayerEvent>,
) -> std::sync::mpsc::Sender<Job> {
    spawn_player_watched(output, clock, events).0
}

/// [`spawn_player`], also returning a flag that is true while the thread
/// runs: a thread abandoned on a stuck device is known to be gone once it
/// turns false.
pub fn spawn_player_watched(
    mut output: Box<dyn Output>,
    clock: Arc<dyn Clock>,
    events: tokio::sync::mpsc::UnboundedSender<PlayerEvent>,
) -> (std::sync::mpsc::Sender<Job>, Arc<AtomicBool>) {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let alive = Arc::new(AtomicBool::new(true));
    let running = alive.clone();
    std::thread::Builder::new()
        .name("player".into())
        .spawn(move || {
            struct Gone(Arc<AtomicBool>);
            impl Drop for Gone {
                fn drop(&mut self) {
                    self.0.store(false, Ordering::SeqCst);
                }
            }
            let _gone = Gone(running);
            let mut pending: Option<Job> = None;
            while let Some(job) = pending.take().or_else(|| rx.recv().ok()) {
                // A job given up on (its device was stuck) is not run late.
                if job.cancel.load(Ordering::SeqCst) {
                    let _ = events.send(PlayerEvent::Finished {
                        job: job.id,
                        result: JobResult::Cancelled {
                            index: job.start_index,
                        },
                        at: clock.now(),
                    });
                    continue;
                }
                let result = run_job(output.as_mut(), clock.as_ref(), &events, &job);
                let _ = events.send(PlayerEvent::Finished {
                    job: job.id,
                    result,
                    at: clock.now(),
                });
                if let Ok(next) = rx.recv_timeout(Duration::from_millis(200)) {
                    pending = Some(next);
                } else {
                    output.idle();
                }
            }
        })
        .expect("spawn player thread");
    (tx, alive)
}

/// Plays one job's items from its resume point to the end, a cancel or
/// the first failure.
fn run_job(
    output: &mut dyn Output,
    clock: &dyn Clock,
    events: &tokio::sync::mpsc::UnboundedSender<PlayerEvent>,
    job: &Job,
) -> JobResult {
    let cancel = || job.cancel.load(Ordering::SeqCst);
    let mut result = JobResult::Completed;
    if job.check {
        if let Err(e) = output.check() {
            result = JobResult::Failed {
                index: 0,
                error: e.to_string(),
                device: true,
            };
        }
    }
    for (index, item) in job.items.iter().enumerate().skip(job.start_index) {
        if cancel() {
            return JobResult::Cancelled { index };
        }
        match play_item(output, clock, events, job, index, item, &cancel) {
            Ok(true) => {}
            Ok(false) => return JobResult::Cancelled { index },
            Err(e) => {
                // The capture file is the output: failing to write it is the
                // output failing, like a sound card.
                let device = matches!(e, OutputError::Device(_) | OutputError::Capture { .. });
                return JobResult::Failed {
                    index,
                    error: e.to_string(),
                    device,
                };
            }
        }
    }
    result
}

/// Plays one item (a gap is paced here, never sent to the output);
/// `Ok(false)` when cancelled. A file that ends far short of its probed
/// length is a content failure.
fn play_item(
    output: &mut dyn Output,
    clock: &dyn Clock,
    events: &tokio::sync::mpsc::UnboundedSender<PlayerEvent>,
    job: &Job,
    index: usize,
    item: &PlayItem,
    cancel: &dyn Fn() -> bool,
) -> Result<bool, OutputError> {
    if item.kind == ItemKind::Gap {
        let _ = events.send(PlayerEvent::ItemStarted {
            job: job.id,
            index,
            at: clock.now(),
        });
        return Ok(clock.pace_until(clock.monotonic() + item.duration, cancel));
    }
    let ev = events.clone();
    let id = job.id;
    let from = clock.monotonic();
    let r = output.play(
        item,
        &job.broadcast,
        &mut |at| {
            let _ = ev.send(PlayerEvent::ItemStarted { job: id, index, at });
        },
        cancel,
    );
    // What was decoded, where the output counts it: a
    // device faster than real time is not "short".
    let took = output
        .last_decoded()
        .unwrap_or_else(|| clock.monotonic().saturating_sub(from));
    match (r, &item.source) {
        (Ok(true), ItemSource::File(_)) if ended_early(took, item.duration) => {
            Err(OutputError::Content {
                file: item.label.clone(),
                detail: format!(
                    "the file ended after {:.1} s of {:.1} s (changed or truncated while playing?)",
                    took.as_secs_f64(),
                    item.duration.as_secs_f64()
                ),
            })
        }
        (r, _) => r,
    }
}

//! The player thread as the run loop sees it: jobs handed to it (plays
//! and device checks), the deadline by which it must answer, and a fresh
//! thread when one is stuck in the device. It knows nothing of firings,
//! the store or outages; the flows in `air.rs` and `faults.rs` decide.

use crate::clock::Clock;
use crate::daemon::settings::{OutputFactory, STUCK_AFTER};
use crate::sound::output::{self, Job, Output, PlayItem, PlayerEvent};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub(super) struct Player {
    tx: std::sync::mpsc::Sender<Job>,
    /// Whether the player thread runs (false once it has exited).
    alive: Arc<AtomicBool>,
    /// Player threads given up on while stuck in the device (true while
    /// they still run): at most two are ever left behind.
    stuck: Vec<Arc<AtomicBool>>,
    /// Jobs sent to the player and not finished, in the order it runs
    /// them (a device check may wait behind a play).
    inflight: VecDeque<u64>,
    /// The monotonic time by which the player must have answered about
    /// the job at the head of `inflight` (finished it, or started its
    /// next item); only the head runs, so only it has a deadline.
    head_deadline: Option<Duration>,
    events: mpsc::UnboundedSender<PlayerEvent>,
    factory: Option<OutputFactory>,
    next_job: u64,
    /// The device check in flight, if any, and its cancel flag.
    check_job: Option<u64>,
    check_cancel: Option<Arc<AtomicBool>>,
    /// The output's name: the subject of its outages.
    name: String,
}

impl Player {
    /// Starts the player thread on `output`; its events go to `events`.
    pub(super) fn spawn(
        output: Box<dyn Output>,
        clock: Arc<dyn Clock>,
        events: mpsc::UnboundedSender<PlayerEvent>,
        factory: Option<OutputFactory>,
    ) -> Player {
        let name = output.name();
        let (tx, alive) = output::spawn_player_watched(output, clock, events.clone());
        Player {
            tx,
            alive,
            stuck: Vec::new(),
            inflight: VecDeque::new(),
            head_deadline: None,
            events,
            factory,
            next_job: 1,
            check_job: None,
            check_cancel: None,
            name,
        }
    }

    /// The output's name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Hands a play to the player; returns its job id and cancel flag.
    /// Until its first item starts the device must answer soon: a hung
    /// open is found in seconds, not after the whole programme.
    pub(super) fn play(
        &mut self,
        broadcast: &str,
        items: Vec<PlayItem>,
        start_index: usize,
        mono: Duration,
    ) -> (u64, Arc<AtomicBool>) {
        let id = self.next_job;
        self.next_job += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let _ = self.tx.send(Job {
            id,
            broadcast: broadcast.to_string(),
            items,
            start_index,
            cancel: cancel.clone(),
            check: false,
        });
        self.sent(id, mono);
        (id, cancel)
    }

    /// Asks the player whether the output works.
    pub(super) fn check(&mut self, mono: Duration) {
        let id = self.next_job;
        self.next_job += 1;
        self.check_job = Some(id);
        let cancel = Arc::new(AtomicBool::new(false));
        self.check_cancel = Some(cancel.clone());
        let _ = self.tx.send(Job {
            id,
            broadcast: String::new(),
            items: Vec::new(),
            start_index: 0,
            cancel,
            check: true,
        });
        self.sent(id, mono);
    }

    /// Whether a device check is in flight.
    pub(super) fn checking(&self) -> bool {
        self.check_job.is_some()
    }

    /// A job was handed to the player: it runs after those in flight, and
    /// at once (with a deadline) if there are none.
    fn sent(&mut self, job: u64, mono: Duration) {
        self.inflight.push_back(job);
        if self.inflight.len() == 1 {
            self.head_deadline = Some(mono + STUCK_AFTER);
        }
    }

    /// The player answered: the deadline moves on. `on_air` is the job on
    /// air and what is left of it from the item that started. Events of a
    /// player given up on (their jobs no longer in flight) move nothing.
    /// Returns whether the event ends the device check (the caller judges
    /// its result).
    pub(super) fn answered(
        &mut self,
        ev: &PlayerEvent,
        mono: Duration,
        on_air: Option<(u64, Duration)>,
    ) -> bool {
        match ev {
            PlayerEvent::Finished { job, .. } => {
                if let Some(i) = self.inflight.iter().position(|j| j == job) {
                    self.inflight.remove(i);
                    if i == 0 {
                        // The next job starts now.
                        self.head_deadline = self.inflight.front().map(|_| mono + STUCK_AFTER);
                    }
                }
                if self.check_job == Some(*job) {
                    self.check_cancel = None;
                    self.check_job = None;
                    return true;
                }
            }
            PlayerEvent::ItemStarted { job, .. } => {
                if let Some((_, left)) =
                    on_air.filter(|(j, _)| j == job && self.inflight.front() == Some(job))
                {
                    self.head_deadline = Some(mono + left + STUCK_AFTER);
                }
            }
        }
        false
    }

    /// By when the player must answer (monotonic), if anything is in
    /// flight.
    pub(super) fn deadline(&self) -> Option<Duration> {
        self.head_deadline
    }

    /// The process was frozen for `late`: the player too, so its deadline
    /// moves on by as much (not a stuck device).
    pub(super) fn frozen(&mut self, late: Duration) {
        if let Some(at) = self.head_deadline.as_mut() {
            *at += late;
        }
    }

    /// Gives up on the player thread stuck in the device: every job handed
    /// to it is void (the one stuck and any waiting behind it: a device
    /// check left waiting would stop every later retry). Returns those
    /// jobs (none when nothing was in flight) and whether the device check
    /// was among them.
    pub(super) fn give_up(&mut self) -> (Vec<u64>, bool) {
        self.head_deadline = None;
        if self.inflight.is_empty() {
            return (Vec::new(), false);
        }
        let jobs: Vec<u64> = std::mem::take(&mut self.inflight).into();
        let mut check = false;
        if self.check_job.is_some_and(|c| jobs.contains(&c)) {
            self.check_job = None;
            if let Some(c) = self.check_cancel.take() {
                c.store(true, Ordering::SeqCst);
            }
            check = true;
        }
        (jobs, check)
    }

    /// A fresh player thread takes over the output (the stuck one is left
    /// behind; at most two are ever left).
    pub(super) fn replace(&mut self, clock: Arc<dyn Clock>) {
        self.stuck.retain(|alive| alive.load(Ordering::SeqCst));
        if self.stuck.len() >= 2 {
            return;
        }
        if let Some(make) = &self.factory {
            let (tx, alive) = output::spawn_player_watched(make(), clock, self.events.clone());
            let old = std::mem::replace(&mut self.alive, alive);
            self.stuck.push(old);
            self.tx = tx;
            tracing::warn!("a new player thread took over the sound output");
        }
    }
}

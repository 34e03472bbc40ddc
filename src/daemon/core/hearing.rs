//! Proof of air: the monitor's verdict on each play, the `signal` outage
//! (silence while playing), the monitor input's own fault; and the IP
//! terminals' reports. The monitor state is private to `Hearing`; the
//! other flows only call its methods.

use super::Daemon;
use crate::clock::Clock;
use crate::config::station::TerminalConfig;
use crate::daemon::settings::*;
use crate::daemon::terminals::{Prober, TerminalEvent};
use crate::sound::monitor::MonitorHandle;
use crate::store::OutageKind;
use crate::store::OutageRow;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The monitor's counts when the play on air started.
#[derive(Debug, Clone)]
struct Listening {
    from: DateTime<Utc>,
    from_mono: Duration,
    windows: u64,
    heard: u64,
    errors: u64,
}

impl Listening {
    fn now(clock: &dyn Clock, h: &crate::sound::monitor::Hearing) -> Listening {
        Listening {
            from: clock.now(),
            from_mono: clock.monotonic(),
            windows: h.windows,
            heard: h.heard,
            errors: h.errors,
        }
    }
}

/// Proof of air's state: the monitor input, what it measured when the play
/// on air started, the silence carried over from earlier silent plays and
/// the open `signal` outage. Only this file reads or changes it; the rest
/// of the daemon calls the methods below.
pub(super) struct Hearing {
    monitor: Option<MonitorHandle>,
    listen: Option<Listening>,
    /// Silent playing time carried over from earlier silent plays, and
    /// when that silence began.
    quiet_carry: Duration,
    quiet_started: Option<DateTime<Utc>>,
    /// The open `signal` outage, and when it was found.
    signal_open: Option<i64>,
    /// Monotonic: a wall-clock step is never silence.
    signal_found: Option<Duration>,
    /// Whether the monitor's own `output` outage is open.
    monitor_fault_open: bool,
}

impl Hearing {
    pub(super) fn new(monitor: Option<MonitorHandle>) -> Hearing {
        Hearing {
            monitor,
            listen: None,
            quiet_carry: Duration::ZERO,
            quiet_started: None,
            signal_open: None,
            signal_found: None,
            monitor_fault_open: false,
        }
    }

    /// Which of its outages the store has open (at start-up).
    pub(super) fn remember_open(&mut self, open: &[OutageRow], mono: Duration) {
        self.monitor_fault_open = open
            .iter()
            .any(|o| o.kind == OutageKind::Output && o.subject.starts_with(MONITOR_SUBJECT));
        if let Some(o) = open.iter().find(|o| o.kind == OutageKind::Signal) {
            self.signal_open = Some(o.id);
            self.signal_found = Some(mono);
        }
    }

    /// A play starts: listen from now.
    pub(super) fn play_started(&mut self, clock: &dyn Clock) {
        if let Some(m) = &self.monitor {
            m.mark();
            m.set_active(true);
            self.listen = Some(Listening::now(clock, &m.hearing()));
        }
    }

    /// The play's first sample went out: judge from here, not from the
    /// request.
    pub(super) fn first_sample(&mut self, clock: &dyn Clock) {
        if let (Some(m), Some(_)) = (&self.monitor, &self.listen) {
            m.mark();
            self.listen = Some(Listening::now(clock, &m.hearing()));
        }
    }

    /// The monitor's name and what it last measured, for the live view.
    pub(super) fn shown(&self) -> Option<(String, crate::sound::monitor::Hearing)> {
        self.monitor.as_ref().map(|m| (m.name.clone(), m.hearing()))
    }

    /// The monitor's name, the subject of its outages.
    pub(super) fn name(&self) -> Option<String> {
        self.monitor.as_ref().map(|m| m.name.clone())
    }

    /// A play was heard: the silence carried over ends. With the `signal`
    /// outage open, returns it and — when heard *again*, after the silence
    /// was found (a play that went silent half-way was heard before it) —
    /// `Some(when the sound came back)`, the outage then being closed here;
    /// otherwise the play is only linked to it.
    fn heard(
        &mut self,
        h: &crate::sound::monitor::Hearing,
    ) -> Option<(i64, Option<Option<DateTime<Utc>>>)> {
        self.quiet_carry = Duration::ZERO;
        self.quiet_started = None;
        let again = match self.signal_found {
            Some(found) => h.last_heard_mono.is_some_and(|t| t >= found),
            None => true,
        };
        let o = self.signal_open?;
        if !again {
            return Some((o, None));
        }
        self.signal_open = None;
        self.signal_found = None;
        // `mark` was reset when the outage opened or this play started,
        // whichever was later.
        Some((o, Some(h.first_heard_since_mark)))
    }

    /// A play was silent: its trailing silence adds to the silence carried
    /// over. Returns since when and why to open the `signal` outage, once
    /// the silence is long enough (at once for the daily self-test).
    fn silent(
        &mut self,
        l: &Listening,
        h: &crate::sound::monitor::Hearing,
        at: DateTime<Utc>,
        broadcast: &str,
        mono: Duration,
    ) -> Option<(DateTime<Utc>, String)> {
        let m = self.monitor.as_ref()?;
        if h.last_heard_mono.is_some_and(|t| t >= l.from_mono) {
            // Some signal in this play: only its trailing silence counts.
            self.quiet_carry = Duration::ZERO;
            self.quiet_started = None;
        }
        let start_mono = l.from_mono.max(h.last_heard_mono.unwrap_or(l.from_mono));
        let silent = mono.saturating_sub(start_mono);
        self.quiet_carry += silent;
        self.quiet_started
            .get_or_insert(at - TimeDelta::from_std(silent).unwrap_or_default());
        let self_test = broadcast == SELF_TEST;
        if self.signal_open.is_some() || !(self_test || self.quiet_carry >= m.silence_after) {
            return None;
        }
        let detail = if self_test {
            "the daily self-test was not heard on the monitor".to_string()
        } else {
            format!(
                "silence under {} dBFS on the monitor for {} s while playing",
                m.threshold_db,
                self.quiet_carry.as_secs()
            )
        };
        Some((self.quiet_started.unwrap_or(l.from), detail))
    }

    /// The `signal` outage was closed from outside (no longer configured).
    pub(super) fn signal_closed(&mut self) {
        self.signal_open = None;
        self.signal_found = None;
    }
}

/// The IP terminals' prober, and which generation of it reports count
/// (events of a prober replaced on reload are ignored).
pub(super) struct Terminals {
    prober: Option<Prober>,
    tx: mpsc::UnboundedSender<(u64, TerminalEvent)>,
    gen: u64,
}

impl Terminals {
    pub(super) fn new(tx: mpsc::UnboundedSender<(u64, TerminalEvent)>) -> Terminals {
        Terminals {
            prober: None,
            tx,
            gen: 0,
        }
    }

    /// Probes these terminals from now on (a new prober only when the
    /// list changed).
    pub(super) fn probe(&mut self, terminals: &[TerminalConfig], clock: &Arc<dyn Clock>) {
        let same = match &self.prober {
            Some(p) => p.terminals() == terminals,
            None => terminals.is_empty(),
        };
        if same {
            return;
        }
        self.gen += 1;
        self.prober = (!terminals.is_empty()).then(|| {
            tracing::info!(count = terminals.len(), "probing IP loudspeaker terminals");
            Prober::spawn(terminals.to_vec(), clock.clone(), self.tx.clone(), self.gen)
        });
    }
}

impl Daemon {
    /// A play's sound has ended (or was cut): what did the monitor hear?
    /// Records `heard`, and moves the `signal` outage: a heard play closes
    /// it, a silent one adds to the silence (and points at the outage). A
    /// monitor that failed during the play judges nothing.
    pub(in crate::daemon) async fn listen_end(
        &mut self,
        row: i64,
        broadcast: &str,
        sounded: bool,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        use crate::sound::monitor::Verdict;
        let (Some(m), Some(l)) = (&self.hearing.monitor, self.hearing.listen.take()) else {
            return Ok(());
        };
        m.set_active(false);
        let h = m.hearing();
        let subject = m.name.clone();
        let failed = h.error.is_some() || h.errors > l.errors;
        let verdict = if sounded && !failed {
            Verdict::of(h.windows - l.windows, h.heard - l.heard)
        } else {
            Verdict::Unknown
        };
        let heard = verdict.as_heard();
        tracing::info!(%broadcast, ?verdict, "monitor verdict");
        self.store.call(move |s| s.set_heard(row, heard)).await?;
        match verdict {
            Verdict::Heard => match self.hearing.heard(&h) {
                Some((o, None)) => {
                    self.store.call(move |s| s.link_outage(row, o)).await?;
                }
                Some((_, Some(end))) => {
                    let end = end.unwrap_or(at);
                    self.store
                        .call(move |s| s.close_outage(OutageKind::Signal, &subject, end))
                        .await?;
                    tracing::info!("the monitor hears us again: signal outage closed");
                }
                None => {}
            },
            Verdict::Silent => {
                let mono = self.clock.monotonic();
                if let Some((since, detail)) = self.hearing.silent(&l, &h, at, broadcast, mono) {
                    self.open_signal(since, detail).await?;
                }
                if let Some(o) = self.hearing.signal_open {
                    self.store.call(move |s| s.link_outage(row, o)).await?;
                }
            }
            Verdict::Unknown => {}
        }
        Ok(())
    }

    pub(in crate::daemon) async fn open_signal(
        &mut self,
        since: DateTime<Utc>,
        detail: String,
    ) -> Result<(), RunError> {
        let subject = self.hearing.name().unwrap_or_default();
        let (id, new) = self
            .store
            .call(move |s| s.open_outage(OutageKind::Signal, &subject, since, &detail))
            .await?;
        if new {
            tracing::error!("silence on the monitor while playing: signal outage opened (amplifier or transmitter off?)");
        }
        self.hearing.signal_open = Some(id);
        self.hearing.signal_found = Some(self.clock.monotonic());
        if let Some(m) = &self.hearing.monitor {
            // "Heard again" counts from here.
            m.mark();
        }
        Ok(())
    }

    /// How long the play on air has been silent, as measured (monotonic):
    /// `None` while the monitor fails or has measured nothing of it yet.
    pub(in crate::daemon) fn measured_silence(
        &self,
        h: &crate::sound::monitor::Hearing,
    ) -> Option<(Duration, Duration)> {
        let l = self.hearing.listen.as_ref()?;
        if h.error.is_some() || h.errors > l.errors || h.windows == l.windows {
            return None;
        }
        let start = l.from_mono.max(h.last_heard_mono.unwrap_or(l.from_mono));
        let silent = h.last_at_mono?.saturating_sub(start);
        Some((silent, start))
    }

    /// When to look again at the silence of the play on air.
    pub(in crate::daemon) fn silence_deadline(&self) -> Option<DateTime<Utc>> {
        let (m, l) = (
            self.hearing.monitor.as_ref()?,
            self.hearing.listen.as_ref()?,
        );
        if self.hearing.signal_open.is_some() {
            return None;
        }
        let h = m.hearing();
        if h.error.is_some() || h.errors > l.errors {
            // The monitor's own fault: not silence; looked at on the next wake.
            return None;
        }
        let now = self.clock.now();
        let left = m.silence_after.saturating_sub(self.hearing.quiet_carry);
        match self.measured_silence(&h) {
            // Nothing measured yet (the input is starting): look again soon.
            None => Some(now + TimeDelta::seconds(1)),
            Some((silent, _)) => {
                let remaining = left.saturating_sub(silent);
                let step = if remaining.is_zero() {
                    crate::sound::monitor::WINDOW
                } else {
                    remaining
                };
                Some(now + TimeDelta::from_std(step).unwrap_or_default())
            }
        }
    }

    /// While playing: open the `signal` outage once the measured silence
    /// is long enough (the play on air points at it). Always: the monitor
    /// input's own health (an `output` outage with subject `monitor:NAME`).
    pub(in crate::daemon) async fn check_monitor(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<(), RunError> {
        let Some(m) = &self.hearing.monitor else {
            return Ok(());
        };
        let h = m.hearing();
        let subject = format!("{MONITOR_SUBJECT}{}", m.name);
        match (&h.error, self.hearing.monitor_fault_open) {
            (Some(e), false) => {
                let (s2, e2) = (subject.clone(), e.clone());
                self.store
                    .call(move |s| s.open_outage(OutageKind::Output, &s2, now, &e2))
                    .await?;
                self.hearing.monitor_fault_open = true;
                tracing::error!(error = %e, "monitor input failing: outage opened");
            }
            (None, true) if h.last_at.is_some_and(|t| t > self.since) => {
                self.store
                    .call(move |s| s.close_outage(OutageKind::Output, &subject, now))
                    .await?;
                self.hearing.monitor_fault_open = false;
                tracing::info!("monitor input works again");
            }
            _ => {}
        }
        let (Some(l), Some(a)) = (&self.hearing.listen, &self.current) else {
            return Ok(());
        };
        if h.last_heard_mono.is_some_and(|t| t >= l.from_mono) {
            // Heard during this play: earlier silent plays no longer count.
            self.hearing.quiet_carry = Duration::ZERO;
            self.hearing.quiet_started = None;
        }
        if self.hearing.signal_open.is_some() {
            return Ok(());
        }
        let row = a.row;
        let Some((silent, start_mono)) = self.measured_silence(&h) else {
            return Ok(());
        };
        let m = self.hearing.monitor.as_ref().expect("checked");
        if self.hearing.quiet_carry + silent >= m.silence_after {
            let ago = self.clock.monotonic().saturating_sub(start_mono);
            let from = self
                .hearing
                .quiet_started
                .unwrap_or(now - TimeDelta::from_std(ago).unwrap_or_default());
            let secs = (self.hearing.quiet_carry + silent).as_secs();
            let threshold = m.threshold_db;
            self.open_signal(
                from,
                format!("silence under {threshold} dBFS on the monitor for {secs} s while playing"),
            )
            .await?;
            if let Some(o) = self.hearing.signal_open {
                self.store.call(move |s| s.link_outage(row, o)).await?;
            }
        }
        Ok(())
    }

    pub(in crate::daemon) async fn on_terminal(
        &mut self,
        gen: u64,
        ev: crate::daemon::terminals::TerminalEvent,
    ) -> Result<(), RunError> {
        // Events of an earlier prober (before a reload) are ignored.
        if gen != self.terminals.gen {
            return Ok(());
        }
        use crate::daemon::terminals::TerminalEvent;
        match ev {
            TerminalEvent::Down {
                subject,
                since,
                detail,
            } => {
                tracing::error!(%subject, %detail, "IP loudspeaker not answering: terminal outage opened");
                self.store
                    .call(move |s| s.open_outage(OutageKind::Terminal, &subject, since, &detail))
                    .await?;
            }
            TerminalEvent::Up { subject, at } => {
                let closed = self
                    .store
                    .call({
                        let subject = subject.clone();
                        move |s| s.close_outage(OutageKind::Terminal, &subject, at)
                    })
                    .await?;
                if closed.is_some() {
                    tracing::info!(%subject, "IP loudspeaker answers again: terminal outage closed");
                }
            }
        }
        Ok(())
    }
}

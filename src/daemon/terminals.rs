//! IP loudspeaker terminals (网络音柱): each is probed on its interval (a
//! TCP connection, or an HTTP GET answering 2xx); after `failures` failed
//! probes in a row it is down, and the first answer after that brings it
//! up. Only changes are reported to the daemon, so a healthy village costs
//! one probe per terminal per interval and no wake of the run loop. It
//! never touches the store: the daemon records what it reports.

use crate::clock::Clock;
use crate::config::station::{Probe, TerminalConfig};
use chrono::{DateTime, Utc};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The longest a single probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// A terminal changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalEvent {
    /// Down since the first failed probe of the failing run.
    Down {
        subject: String,
        since: DateTime<Utc>,
        detail: String,
    },
    /// Answered again (or for the first time since start).
    Up { subject: String, at: DateTime<Utc> },
}

/// One terminal's probe state: pure, so the rules (N failures before
/// down, one answer brings it up, no flapping) are unit-tested.
#[derive(Debug, Clone, Default)]
pub struct ProbeState {
    /// `None` until the first verdict.
    pub up: Option<bool>,
    failures: u32,
    first_failure: Option<DateTime<Utc>>,
}

impl ProbeState {
    /// Feeds one probe result; returns the event it causes, if any.
    pub fn feed(
        &mut self,
        t: &TerminalConfig,
        at: DateTime<Utc>,
        result: Result<(), String>,
    ) -> Option<TerminalEvent> {
        match result {
            Ok(()) => {
                self.failures = 0;
                self.first_failure = None;
                if self.up != Some(true) {
                    self.up = Some(true);
                    return Some(TerminalEvent::Up {
                        subject: t.subject(),
                        at,
                    });
                }
                None
            }
            Err(e) => {
                self.failures += 1;
                let since = *self.first_failure.get_or_insert(at);
                if self.failures >= t.failures && self.up != Some(false) {
                    self.up = Some(false);
                    return Some(TerminalEvent::Down {
                        subject: t.subject(),
                        since,
                        detail: format!("{} ({} probes failed): {e}", t.address, self.failures),
                    });
                }
                None
            }
        }
    }
}

/// Asks a terminal once.
///
/// # Errors
/// Why it did not answer.
pub fn probe(t: &TerminalConfig) -> Result<(), String> {
    let timeout = PROBE_TIMEOUT.min(t.interval.max(Duration::from_millis(100)));
    match &t.probe {
        Probe::Tcp => {
            let addr = t
                .address
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve {}: {e}", t.address))?
                .next()
                .ok_or_else(|| format!("cannot resolve {}", t.address))?;
            TcpStream::connect_timeout(&addr, timeout)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Probe::Http(path) => {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into();
            let resp = agent
                .get(format!("http://{}{path}", t.address))
                .call()
                .map_err(|e| e.to_string())?;
            let code = resp.status().as_u16();
            if (200..300).contains(&code) {
                Ok(())
            } else {
                Err(format!("GET {path} answered {code}"))
            }
        }
    }
}

/// The probing thread.
pub struct Prober {
    terminals: Vec<TerminalConfig>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Prober {
    /// Probes `terminals` on their intervals (on `clock`), sending changes
    /// to `tx` tagged with `generation` (so a prober replaced on reload
    /// cannot be mistaken for its successor).
    pub fn spawn(
        terminals: Vec<TerminalConfig>,
        clock: Arc<dyn Clock>,
        tx: UnboundedSender<(u64, TerminalEvent)>,
        generation: u64,
    ) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let (halt, list) = (stop.clone(), terminals.clone());
        let thread = std::thread::Builder::new()
            .name("terminals".into())
            .spawn(move || {
                let mut states = vec![ProbeState::default(); list.len()];
                let start = clock.monotonic();
                let mut due: Vec<Duration> = vec![start; list.len()];
                while !halt.load(Ordering::SeqCst) {
                    let next = *due.iter().min().expect("at least one terminal");
                    let now_mono = clock.monotonic();
                    if now_mono < next {
                        clock.park_until(next);
                        continue;
                    }
                    // The terminals due now are probed at once, each on its
                    // own thread: one dead terminal (3 s timeout) does not
                    // delay the others.
                    let due_now: Vec<usize> =
                        (0..list.len()).filter(|i| due[*i] <= now_mono).collect();
                    let at = clock.now();
                    let results: Vec<(usize, Result<(), String>)> = if due_now.len() == 1 {
                        vec![(due_now[0], probe(&list[due_now[0]]))]
                    } else {
                        std::thread::scope(|s| {
                            let handles: Vec<_> = due_now
                                .iter()
                                .map(|&i| {
                                    let t = &list[i];
                                    (i, s.spawn(move || probe(t)))
                                })
                                .collect();
                            handles
                                .into_iter()
                                .map(|(i, h)| {
                                    (i, h.join().unwrap_or_else(|_| Err("probe crashed".into())))
                                })
                                .collect()
                        })
                    };
                    for (i, result) in results {
                        let t = &list[i];
                        if let Some(ev) = states[i].feed(t, at, result) {
                            tracing::info!(?ev, "terminal changed state");
                            if tx.send((generation, ev)).is_err() {
                                return;
                            }
                        }
                        due[i] = now_mono + t.interval;
                    }
                }
            })
            .expect("spawn terminal prober");
        Prober {
            terminals,
            stop,
            thread: Some(thread),
        }
    }

    /// The terminals it probes.
    pub fn terminals(&self) -> &[TerminalConfig] {
        &self.terminals
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(failures: u32) -> TerminalConfig {
        TerminalConfig {
            name: "东头音柱".into(),
            location: "村东头".into(),
            address: "127.0.0.1:9".into(),
            probe: Probe::Tcp,
            interval: Duration::from_secs(60),
            failures,
        }
    }

    #[test]
    fn down_after_n_failures_up_at_the_first_answer_no_flapping() {
        let t = term(3);
        let t0 = chrono::Utc::now();
        let at = |m: i64| t0 + chrono::Duration::minutes(m);
        let mut s = ProbeState::default();
        assert_eq!(
            s.feed(&t, at(0), Ok(())),
            Some(TerminalEvent::Up {
                subject: "东头音柱（村东头）".into(),
                at: at(0)
            })
        );
        // One lost probe, then answers: nothing happens.
        assert_eq!(s.feed(&t, at(1), Err("timeout".into())), None);
        assert_eq!(s.feed(&t, at(2), Ok(())), None);
        // Three in a row: down since the first of them.
        assert_eq!(s.feed(&t, at(3), Err("refused".into())), None);
        assert_eq!(s.feed(&t, at(4), Err("refused".into())), None);
        match s.feed(&t, at(5), Err("refused".into())) {
            Some(TerminalEvent::Down { since, subject, .. }) => {
                assert_eq!((since, subject.as_str()), (at(3), "东头音柱（村东头）"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.feed(&t, at(6), Err("refused".into())), None, "said once");
        assert_eq!(
            s.feed(&t, at(7), Ok(())),
            Some(TerminalEvent::Up {
                subject: "东头音柱（村东头）".into(),
                at: at(7)
            })
        );
    }
}

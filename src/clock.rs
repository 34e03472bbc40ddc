//! Time, through one small trait so tests can step it: wall time (what the
//! schedules speak of) and monotonic time (what sleeps and pacing use).
//!
//! `tokio::time::pause()` only moves tokio's `Instant`; wall-clock jumps are
//! simulated through [`TestClock`], which moves wall and monotonic time
//! together ([`TestClock::advance`]) or wall time alone ([`TestClock::step`]).
//!
//! It owns reading time; it must not know schedules, firings or the store.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The longest the run loop sleeps without re-reading wall time, so a clock
/// step or a suspend is noticed within this even where the kernel cannot
/// tell. On Linux the timerfd watch reports steps (and resume) at once, so
/// the bound is only a safety net.
#[cfg(target_os = "linux")]
pub const MAX_SLEEP: Duration = Duration::from_secs(60);
/// See the Linux definition; elsewhere this bound is how steps are noticed.
#[cfg(not(target_os = "linux"))]
pub const MAX_SLEEP: Duration = Duration::from_secs(10);

/// A boxed future, for object-safe async methods.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wall and monotonic time, plus the ways to wait for them.
pub trait Clock: Send + Sync + 'static {
    /// Wall time, re-read on every use.
    fn now(&self) -> DateTime<Utc>;
    /// Monotonic time since an arbitrary origin; never jumps.
    fn monotonic(&self) -> Duration;
    /// Resolves when wall time may have reached `t`: at `t`, after at most
    /// [`MAX_SLEEP`], or as soon as the wall clock is stepped. Callers
    /// re-read [`Clock::now`] and decide again.
    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture;
    /// Blocks the calling (non-async) thread until `monotonic() >= until`
    /// or `cancel` returns true; checks `cancel` at least every 10 ms.
    /// Returns false when cancelled.
    fn pace_until(&self, until: Duration, cancel: &dyn Fn() -> bool) -> bool;

    /// Blocks the calling thread until monotonic time `until`, or earlier
    /// when it is unparked; callers loop and check their own stop flag.
    /// Unlike [`Clock::pace_until`] it does not poll: a thread that waits a
    /// minute wakes once.
    fn park_until(&self, until: Duration) {
        let now = self.monotonic();
        if now < until {
            std::thread::park_timeout(until - now);
        }
    }
}

/// The real clocks: `Utc::now()` and `Instant`. On Linux a timerfd with
/// `TFD_TIMER_CANCEL_ON_SET` wakes sleepers the moment the wall clock is set
/// (as systemd does); elsewhere sleeps are bounded by [`MAX_SLEEP`].
pub struct SystemClock {
    origin: Instant,
    stepped: watch::Receiver<u64>,
}

impl SystemClock {
    pub fn new() -> Arc<SystemClock> {
        let (tx, rx) = watch::channel(0u64);
        #[cfg(target_os = "linux")]
        linux::watch_clock_steps(tx);
        #[cfg(not(target_os = "linux"))]
        drop(tx);
        Arc::new(SystemClock {
            origin: Instant::now(),
            stepped: rx,
        })
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture {
        let wait = (t - Utc::now()).to_std().unwrap_or_default().min(MAX_SLEEP);
        let mut stepped = self.stepped.clone();
        stepped.borrow_and_update();
        Box::pin(async move {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                r = stepped.changed() => {
                    if r.is_err() {
                        // No watcher on this platform: plain bounded sleep.
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }

    fn pace_until(&self, until: Duration, cancel: &dyn Fn() -> bool) -> bool {
        loop {
            if cancel() {
                return false;
            }
            let now = self.monotonic();
            if now >= until {
                return true;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(10)));
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::sync::watch;

    /// A thread blocked on a timerfd armed far in the future on
    /// CLOCK_REALTIME with CANCEL_ON_SET: its read fails with ECANCELED
    /// whenever the wall clock is set (or jumps on resume).
    pub fn watch_clock_steps(tx: watch::Sender<u64>) {
        let spawn = std::thread::Builder::new()
            .name("clock-watch".into())
            .spawn(move || {
                let Ok(fd) = TimerFd::new(ClockId::CLOCK_REALTIME, TimerFlags::empty()) else {
                    return;
                };
                let mut n = 0u64;
                loop {
                    let far = TimeSpec::new(i32::MAX as i64 * 2, 0);
                    let flags = TimerSetTimeFlags::TFD_TIMER_ABSTIME
                        | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET;
                    if fd.set(Expiration::OneShot(far), flags).is_err() {
                        return;
                    }
                    match fd.wait() {
                        Err(nix::errno::Errno::ECANCELED) => {
                            n += 1;
                            tracing::info!("wall clock was set");
                            if tx.send(n).is_err() {
                                return;
                            }
                        }
                        Err(nix::errno::Errno::EINTR) => {}
                        _ => return,
                    }
                }
            });
        if let Err(e) = spawn {
            tracing::warn!(error = %e, "cannot watch for clock steps; relying on bounded sleeps");
        }
    }
}

/// A clock tests drive by hand. Sleepers (async and blocking) wake whenever
/// it moves.
#[derive(Clone)]
pub struct TestClock {
    inner: Arc<TestInner>,
}

struct TestInner {
    state: Mutex<(DateTime<Utc>, Duration)>,
    cv: Condvar,
    tx: watch::Sender<u64>,
}

impl TestClock {
    /// A clock showing `start`, monotonic time zero.
    pub fn new(start: DateTime<Utc>) -> TestClock {
        let (tx, _) = watch::channel(0);
        TestClock {
            inner: Arc::new(TestInner {
                state: Mutex::new((start, Duration::ZERO)),
                cv: Condvar::new(),
                tx,
            }),
        }
    }

    fn moved(&self) {
        self.inner.cv.notify_all();
        self.inner.tx.send_modify(|n| *n += 1);
    }

    /// Time passes: wall and monotonic move together.
    pub fn advance(&self, d: Duration) {
        {
            let mut s = self.inner.state.lock().expect("clock");
            s.0 += chrono::Duration::from_std(d).expect("duration");
            s.1 += d;
        }
        self.moved();
    }

    /// Someone sets the wall clock: wall time jumps by `d` (may be
    /// negative), monotonic time does not move.
    pub fn step(&self, d: chrono::Duration) {
        self.inner.state.lock().expect("clock").0 += d;
        self.moved();
    }

    /// Sets the wall clock to `t` without time passing.
    pub fn set(&self, t: DateTime<Utc>) {
        self.inner.state.lock().expect("clock").0 = t;
        self.moved();
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner.state.lock().expect("clock").0
    }

    fn monotonic(&self) -> Duration {
        self.inner.state.lock().expect("clock").1
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture {
        let mut rx = self.inner.tx.subscribe();
        let this = self.clone();
        Box::pin(async move {
            // Any move of the clock wakes the caller to re-decide.
            if this.now() < t {
                let _ = rx.changed().await;
            }
        })
    }

    fn pace_until(&self, until: Duration, cancel: &dyn Fn() -> bool) -> bool {
        let mut s = self.inner.state.lock().expect("clock");
        loop {
            if cancel() {
                return false;
            }
            if s.1 >= until {
                return true;
            }
            s = self
                .inner
                .cv
                .wait_timeout(s, Duration::from_millis(5))
                .expect("clock")
                .0;
        }
    }

    fn park_until(&self, until: Duration) {
        // Virtual time moves only when the test moves it: wait for that,
        // a little real time at most, and let the caller look again.
        let s = self.inner.state.lock().expect("clock");
        if s.1 < until {
            let _ = self
                .inner
                .cv
                .wait_timeout(s, Duration::from_millis(20))
                .expect("clock");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_steps_and_advances() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let c = TestClock::new(t0);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now(), t0 + chrono::Duration::seconds(5));
        assert_eq!(c.monotonic(), Duration::from_secs(5));
        c.step(chrono::Duration::hours(-1));
        assert_eq!(
            c.now(),
            t0 + chrono::Duration::seconds(5) - chrono::Duration::hours(1)
        );
        assert_eq!(c.monotonic(), Duration::from_secs(5));
    }

    #[test]
    fn pacing_follows_the_test_clock() {
        let c = TestClock::new(DateTime::from_timestamp(0, 0).unwrap());
        let c2 = c.clone();
        let h = std::thread::spawn(move || c2.pace_until(Duration::from_secs(3), &|| false));
        c.advance(Duration::from_secs(3));
        assert!(h.join().unwrap());
        assert!(!c.pace_until(Duration::from_secs(100), &|| true));
    }
}

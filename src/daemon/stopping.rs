//! A clean stop that a county's Prometheus can tell from a power cut.
//!
//! Both leave `up == 0`. So at a clean stop (SIGTERM, Ctrl-C) the daemon
//! stops playing at once as before, but when a scraper has been reading
//! `/metrics` at a steady interval it keeps its HTTP face up until the
//! next `/metrics` request, which answers `cunxiang_stopping 1`; then it
//! exits. The wait is bounded: 1.5 scrape intervals from the last scrape,
//! at most [`MAX_LINGER`]; with no recent scrapes there is none. A power
//! cut or `kill -9` never says it, and the alert rule pages for it alone.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The longest a stopping daemon waits for its last scrape.
pub const MAX_LINGER: Duration = Duration::from_secs(60);

/// Scrapes of `/metrics`, shared by the web face (which notes each) and
/// the run loop (which waits for the one that says it is stopping).
pub struct Scrapes {
    /// The last two scrapes: their gap is the scrape interval.
    times: Mutex<(Option<Instant>, Option<Instant>)>,
    /// Set at a clean stop; read by `/metrics`.
    stopping: std::sync::atomic::AtomicBool,
    /// Counts scrapes answered with `cunxiang_stopping 1`.
    told: watch::Sender<u64>,
}

impl Default for Scrapes {
    fn default() -> Self {
        Scrapes {
            times: Mutex::new((None, None)),
            stopping: Default::default(),
            told: watch::channel(0).0,
        }
    }
}

impl Scrapes {
    /// Whether `/metrics` should say the daemon is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A `/metrics` answer went out at `now`, saying `stopping` or not.
    pub fn scraped(&self, now: Instant, stopping: bool) {
        let mut t = self.times.lock().unwrap_or_else(|p| p.into_inner());
        *t = (t.1, Some(now));
        drop(t);
        if stopping {
            self.told.send_modify(|n| *n += 1);
        }
    }

    /// How long to wait at a stop begun at `now` for the next scrape:
    /// none without two scrapes, or when the next was due long ago.
    pub fn linger(&self, now: Instant) -> Option<Duration> {
        let (Some(prev), Some(last)) = *self.times.lock().unwrap_or_else(|p| p.into_inner()) else {
            return None;
        };
        let interval = last.saturating_duration_since(prev);
        let due = last + interval.mul_f64(1.5).min(MAX_LINGER);
        Some(due.saturating_duration_since(now)).filter(|d| !d.is_zero())
    }

    /// The clean stop: from now `/metrics` says so; waits (bounded, see
    /// [`linger`](Self::linger)) until one scrape has been told.
    pub async fn stop(&self) {
        let mut told = self.told.subscribe();
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let Some(wait) = self.linger(Instant::now()) else {
            return;
        };
        tracing::info!(
            ?wait,
            "stopping: waiting for the next scrape of /metrics to say so"
        );
        if tokio::time::timeout(wait, told.wait_for(|n| *n > 0))
            .await
            .is_ok()
        {
            // Let the answer leave before the face is stopped.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_linger_without_a_steady_scraper() {
        let s = Scrapes::default();
        let t0 = Instant::now();
        assert_eq!(s.linger(t0), None);
        s.scraped(t0, false);
        assert_eq!(s.linger(t0), None, "one scrape gives no interval");
        s.scraped(t0 + Duration::from_secs(30), false);
        let at = t0 + Duration::from_secs(31);
        assert_eq!(s.linger(at), Some(Duration::from_secs(44)));
        // Due long ago (the scraper went away): no wait.
        assert_eq!(s.linger(t0 + Duration::from_secs(600)), None);
        // A slow scraper: at most MAX_LINGER after its last scrape.
        s.scraped(t0 + Duration::from_secs(300), false);
        assert_eq!(s.linger(t0 + Duration::from_secs(300)), Some(MAX_LINGER));
    }

    #[tokio::test]
    async fn a_stop_waits_for_the_scrape_that_says_so() {
        let s = std::sync::Arc::new(Scrapes::default());
        let t0 = Instant::now();
        s.scraped(t0, false);
        s.scraped(t0 + Duration::from_secs(20), false);
        // Up to 50 s from now; the scrape comes at once and ends the wait.
        let scraper = s.clone();
        tokio::spawn(async move {
            while !scraper.stopping() {
                tokio::task::yield_now().await;
            }
            scraper.scraped(Instant::now(), scraper.stopping());
        });
        s.stop().await;
        assert!(s.stopping());
        assert_eq!(*s.told.borrow(), 1);
    }
}

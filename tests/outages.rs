//! The outage ledger on an injected clock: each kind opens with the right
//! start, closes with the right end, and the firings it cost point at it.

mod common;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use common::{sh, Running, TempStation};
use cunxiang::clock::{Clock, TestClock};
use cunxiang::sound::output::{CaptureOutput, Output, OutputError, PlayItem};
use cunxiang::store::{OutageKind, Status, Trigger};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const THREE: &str = "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"07:30\", \"12:00\", \"18:30\"]\ncatch_up = \"10m\"\n";

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (a - b).num_seconds().abs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cut_is_an_outage_from_the_last_heartbeat_and_costs_the_firings_in_it() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule("a.toml", THREE);
    let clock = TestClock::new(sh("2026-12-01 07:00:00"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.crash().await;
    // Power comes back at 18:35.
    clock.set(sh("2026-12-01 18:35:00"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.run_for(Duration::from_secs(6)).await;
    d.wait("caught up", || {
        d.plays().len() == 3 && d.plays().iter().all(|p| p.status != Status::Playing)
    })
    .await;
    let o = d.outages();
    assert_eq!(o.len(), 1, "{o:?}");
    let power = &o[0];
    assert_eq!(power.kind, OutageKind::Power);
    assert!(
        secs(power.started_at, sh("2026-12-01 07:00:00")) <= 1,
        "from the last heartbeat: {power:?}"
    );
    assert_eq!(power.ended_at, Some(sh("2026-12-01 18:35:00")));
    let rows = d.plays();
    // 07:30 and 12:00 missed against it; 18:30, the latest, caught up.
    assert_eq!(
        (rows[0].status, rows[0].outage_id),
        (Status::Missed, Some(power.id))
    );
    assert_eq!(
        (rows[1].status, rows[1].outage_id),
        (Status::Missed, Some(power.id))
    );
    assert_eq!(
        (rows[2].status, rows[2].trigger, rows[2].outage_id),
        (Status::Played, Trigger::CatchUp, None)
    );
    assert_eq!(power.lost, 2);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_stop_is_recorded_as_stopped_not_power() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule("a.toml", THREE);
    let clock = TestClock::new(sh("2026-12-01 07:00:00"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.stop().await;
    clock.set(sh("2026-12-01 12:30:00"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.wait("missed logged", || d.plays().len() == 2).await;
    let o = d.outages();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].kind, OutageKind::Stopped);
    assert_eq!(o[0].started_at, sh("2026-12-01 07:00:00"));
    assert_eq!(o[0].ended_at, Some(sh("2026-12-01 12:30:00")));
    assert!(
        d.plays()
            .iter()
            .all(|p| p.status == Status::Missed && p.outage_id == Some(o[0].id)),
        "12:00 is past its 10 min window"
    );
    d.stop().await;
}

/// A capture output that fails on demand, like a sound card pulled out.
struct Flaky {
    inner: CaptureOutput,
    broken: Arc<AtomicBool>,
}

impl Output for Flaky {
    fn name(&self) -> String {
        "test-card".into()
    }
    fn play(
        &mut self,
        item: &PlayItem,
        b: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        self.check()?;
        self.inner.play(item, b, started, cancel)
    }
    fn check(&mut self) -> Result<(), OutputError> {
        if self.broken.load(Ordering::SeqCst) {
            Err(OutputError::Device("no card".into()))
        } else {
            Ok(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_output_opens_and_closes_an_outage_and_the_schedule_goes_on() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule("a.toml", "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"07:30\", \"07:31\", \"07:35\"]\n");
    let clock = TestClock::new(sh("2026-12-01 07:29:00"));
    let broken = Arc::new(AtomicBool::new(true));
    let c: Arc<dyn Clock> = Arc::new(clock.clone());
    let out = Flaky {
        inner: CaptureOutput::new(c, &st.path().join("capture.jsonl")),
        broken: broken.clone(),
    };
    let d = Running::start_with(st.path(), clock.clone(), Box::new(out)).await;
    // The start-up check finds the card missing: outage open at once.
    d.wait("output outage", || {
        d.outages()
            .iter()
            .any(|o| o.kind == OutageKind::Output && o.ended_at.is_none())
    })
    .await;
    assert_eq!(d.outages()[0].started_at, sh("2026-12-01 07:29:00"));
    assert_eq!(d.outages()[0].subject, "test-card");
    d.run_for(Duration::from_secs(125)).await;
    d.wait("two failed", || {
        d.plays()
            .iter()
            .filter(|p| p.status == Status::Failed)
            .count()
            == 2
    })
    .await;
    let id = d.outages()[0].id;
    assert!(
        d.plays().iter().all(|p| p.outage_id == Some(id)),
        "{:?}",
        d.plays()
    );
    // The card comes back at 07:31:05; a retry (≤ 30 s backoff) closes the outage.
    broken.store(false, Ordering::SeqCst);
    let back = clock.now();
    d.run_for(Duration::from_secs(35)).await;
    d.wait("outage closed", || d.outages()[0].ended_at.is_some())
        .await;
    let o = &d.outages()[0];
    let closed = o.ended_at.unwrap();
    assert!(
        closed >= back && closed - back <= TimeDelta::seconds(31),
        "{o:?}"
    );
    assert_eq!(o.lost, 2);
    // The schedule went on: 07:35 plays.
    d.run_for(Duration::from_secs(240)).await;
    d.wait("07:35 played", || {
        d.plays().iter().any(|p| p.status == Status::Played)
    })
    .await;
    assert_eq!(d.outages().len(), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_a_content_outage_until_uploaded() {
    let st = TempStation::new();
    st.schedule("a.toml", "[[broadcast]]\nname = \"公告\"\nplay = [\"公告/{date}.wav\"]\nat = [\"08:00\", \"08:10\"]\n");
    let clock = TestClock::new(sh("2026-12-01 07:59:59"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.run_for(Duration::from_secs(2)).await;
    d.wait("failed", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Failed)
    })
    .await;
    let o = d.outages();
    assert_eq!(
        (o[0].kind, o[0].subject.as_str(), o[0].ended_at),
        (OutageKind::Content, "公告/2026-12-01.wav", None)
    );
    assert_eq!(d.plays()[0].outage_id, Some(o[0].id));
    // Uploaded; a reload checks it and closes the outage.
    st.wav("公告/2026-12-01.wav", 1.0);
    clock.advance(Duration::from_secs(60));
    let uploaded = clock.now();
    d.control
        .send(cunxiang::daemon::Control::Reload)
        .await
        .unwrap();
    // The clock stands still while the reload runs: on a loaded machine
    // a moving test clock would stamp the close a step later.
    d.wait_still("closed", || d.outages()[0].ended_at.is_some())
        .await;
    assert_eq!(d.outages()[0].ended_at, Some(uploaded));
    clock.advance(Duration::from_secs(535));
    d.run_for(Duration::from_secs(10)).await;
    d.wait("08:10 played", || {
        d.plays().len() == 2 && d.plays()[1].status == Status::Played
    })
    .await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_earlier_than_the_last_heartbeat_is_a_clock_outage_and_replays_nothing() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"07:30\"]\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:29:59"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.run_for(Duration::from_secs(3)).await;
    d.wait("played", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Played)
    })
    .await;
    d.crash().await;
    // Dead CMOS battery: the PC comes back thinking it is 2026-01-01.
    clock.set(sh("2026-01-01 07:00:00"));
    let d = Running::start(st.path(), clock.clone()).await;
    d.wait("clock outage", || {
        d.outages().iter().any(|o| o.kind == OutageKind::Clock)
    })
    .await;
    let o = d
        .outages()
        .into_iter()
        .find(|o| o.kind == OutageKind::Clock)
        .unwrap();
    assert_eq!(
        (o.started_at, o.ended_at),
        (sh("2026-01-01 07:00:00"), None)
    );
    assert!(o
        .detail
        .as_deref()
        .unwrap()
        .contains("earlier than the last heartbeat"));
    // The technician sets the time right: the clock passes the last heartbeat.
    clock.set(sh("2026-12-01 07:31:00"));
    d.run_for(Duration::from_secs(2)).await;
    d.wait("closed", || {
        d.outages()
            .iter()
            .any(|o| o.kind == OutageKind::Clock && o.ended_at.is_some())
    })
    .await;
    assert_eq!(d.plays().len(), 1, "07:30 not replayed");
    assert_eq!(d.captured().len(), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_step_over_two_minutes_is_a_clock_outage_with_its_firings() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule("a.toml", "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"08:00\", \"09:00\"]\ncatch_up = \"1m\"\n");
    let clock = TestClock::new(sh("2026-12-01 07:59:00"));
    let d = Running::start(st.path(), clock.clone()).await;
    clock.step(TimeDelta::minutes(125));
    d.run_for(Duration::from_secs(2)).await;
    d.wait("missed", || d.plays().len() == 2).await;
    let o = d.outages();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].kind, OutageKind::Clock);
    // From the last instant the clock was right to the new reading (to the test clock's step).
    assert!(
        secs(o[0].started_at, sh("2026-12-01 07:59:00")) <= 1,
        "{o:?}"
    );
    assert!(
        secs(o[0].ended_at.unwrap(), sh("2026-12-01 10:04:00")) <= 1,
        "{o:?}"
    );
    assert!(d
        .plays()
        .iter()
        .all(|p| p.status == Status::Missed && p.outage_id == Some(o[0].id)));
    // A small step is not a fault.
    clock.step(TimeDelta::seconds(30));
    d.run_for(Duration::from_secs(2)).await;
    assert_eq!(d.outages().len(), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_file_missing_is_warned_an_hour_before_air_time() {
    let st = TempStation::new();
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"公告\"\nplay = [\"公告/{date}.wav\"]\nat = [\"08:00\"]\n",
    );
    // Tomorrow (real time), so `status`, which reads the real clock, still
    // sees the warning as ahead.
    let day = (Utc::now().with_timezone(&chrono_tz::Asia::Shanghai) + TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let clock = TestClock::new(sh(&format!("{day} 06:30:00")));
    let d = Running::start(st.path(), clock.clone()).await;
    let warnings = || {
        cunxiang::store::Store::open_existing(&d.data)
            .unwrap()
            .meta("warnings")
            .unwrap()
            .unwrap_or_default()
    };
    assert!(!warnings().contains("公告"), "not yet: 90 min ahead");
    // 07:00:01: inside the hour before 08:00.
    clock.advance(Duration::from_secs(30 * 60 + 1));
    d.wait("warned", || {
        warnings().contains(&format!("audio/公告/{day}.wav"))
    })
    .await;
    let out = common::cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "warning: `公告` airs at {day} 08:00:00 but `audio/公告/{day}.wav` is not there"
        )),
        "{text}"
    );
    d.stop().await;
}

/// A card whose first driver instance is dead for good: its check fails
/// and a play on it never returns (nor heeds a cancel). A fresh instance
/// (what a new player thread gets) works.
struct Hung {
    inner: CaptureOutput,
    dead: bool,
    release: Arc<AtomicBool>,
}

impl Output for Hung {
    fn name(&self) -> String {
        "test-card".into()
    }
    fn play(
        &mut self,
        item: &PlayItem,
        b: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        while self.dead && !self.release.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.inner.play(item, b, started, cancel)
    }
    fn check(&mut self) -> Result<(), OutputError> {
        if self.dead {
            Err(OutputError::Device("no card".into()))
        } else {
            Ok(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_check_queued_behind_a_stuck_play_does_not_stop_the_retries() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"07:30\"]\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:29:50"));
    let c: Arc<dyn Clock> = Arc::new(clock.clone());
    let release = Arc::new(AtomicBool::new(false));
    let capture = st.path().join("capture.jsonl");
    let out = Hung {
        inner: CaptureOutput::new(c.clone(), &capture),
        dead: true,
        release: release.clone(),
    };
    let factory: cunxiang::daemon::OutputFactory = Box::new(move || {
        Box::new(Hung {
            inner: CaptureOutput::new(c.clone(), &capture),
            dead: false,
            release: Arc::new(AtomicBool::new(false)),
        })
    });
    let d = Running::start_factory(st.path(), clock.clone(), Box::new(out), factory).await;
    // The check fails: outage open, retried with backoff. At 07:30 the
    // play goes to the dead instance and hangs; a retry's check waits
    // behind it; the play is given up on as stuck.
    d.wait("the play given up on", || {
        d.plays().iter().any(|p| {
            p.status == Status::Failed && p.reason.as_deref().is_some_and(|r| r.contains("stuck"))
        })
    })
    .await;
    let failed_at = clock.now();
    // The check that waited behind it is void too, and the retries go on
    // with the fresh player: the outage closes without any broadcast.
    d.wait("the outage closed by a retry", || {
        d.outages()
            .iter()
            .all(|o| o.kind != OutageKind::Output || o.ended_at.is_some())
    })
    .await;
    let o = d
        .outages()
        .into_iter()
        .find(|o| o.kind == OutageKind::Output)
        .unwrap();
    assert!(
        o.ended_at.unwrap() - failed_at <= TimeDelta::seconds(31),
        "{o:?}"
    );
    assert_eq!(o.lost, 1, "{o:?}");
    release.store(true, Ordering::SeqCst);
    d.stop().await;
}

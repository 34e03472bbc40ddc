//! Proof of air on the injected clock: a test monitor (a switch between a
//! −20 dBFS tone and silence) decides `heard` and the `signal` outage; IP
//! loudspeaker terminals are probed against listeners the test starts and
//! stops on 127.0.0.1.

mod common;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use common::{sh, Running, TempStation};
use cunxiang::clock::{Clock, TestClock};
use cunxiang::sound::monitor::TestSource;
use cunxiang::store::{OutageKind, OutageRow, Status};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Virtual-time slack: the test clock moves in 100 ms steps and windows
/// are 200 ms long.
const SLACK_MS: i64 = 700;

fn near(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_milliseconds().abs() <= SLACK_MS
}

fn signal_outages(d: &Running) -> Vec<OutageRow> {
    d.outages()
        .into_iter()
        .filter(|o| o.kind == OutageKind::Signal)
        .collect()
}

fn monitor(clock: &TestClock, signal: bool) -> TestSource {
    let c: Arc<dyn Clock> = Arc::new(clock.clone());
    TestSource::new(c, signal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_play_with_signal_is_heard_and_opens_nothing() {
    let st = TempStation::new();
    st.wav("通知.wav", 6.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"通知\"\nplay = [\"通知.wav\"]\nat = [\"08:00\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let m = monitor(&clock, true);
    let d = Running::start_monitored(st.path(), clock, &m, Duration::from_secs(5)).await;
    d.run_for(Duration::from_secs(9)).await;
    d.wait("played", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Played)
    })
    .await;
    let p = &d.plays()[0];
    assert_eq!(p.heard, Some(true), "{p:?}");
    assert_eq!(p.outage_id, None);
    assert!(d.outages().is_empty(), "{:?}", d.outages());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_goes_silent_mid_campaign() {
    let st = TempStation::new();
    st.wav("长.wav", 60.0);
    st.wav("短.wav", 5.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"长公告\"\nplay = [\"长.wav\"]\nat = [\"08:00\"]\nchime = false\n\n\
         [[broadcast]]\nname = \"短通知\"\nplay = [\"短.wav\"]\nat = [\"08:02\", \"08:03\", \"08:04\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let m = monitor(&clock, true);
    let d = Running::start_monitored(st.path(), clock.clone(), &m, Duration::from_secs(15)).await;

    // Ten seconds into the long play, someone switches the amplifier off.
    d.run_for(Duration::from_secs(12)).await;
    let off_at = clock.now();
    m.signal.store(false, Ordering::SeqCst);
    d.run_for(Duration::from_secs(10)).await;
    assert!(
        signal_outages(&d).is_empty(),
        "10 s of silence is not yet a fault"
    );
    d.run_for(Duration::from_secs(10)).await;
    d.wait("the signal outage", || !signal_outages(&d).is_empty())
        .await;
    let opened_by = clock.now();
    assert!(
        opened_by - off_at <= TimeDelta::seconds(15 + 5),
        "opened within silence_after + 5 s: {}",
        opened_by - off_at
    );
    let o = &signal_outages(&d)[0];
    assert!(
        near(o.started_at, off_at),
        "starts when the silence began: {o:?}"
    );
    assert_eq!(o.subject, "test-monitor");
    assert!(o.ended_at.is_none());

    // The rest of the long play and the next short one point at it.
    d.run_for(Duration::from_secs(130)).await;
    d.wait("08:02 decided", || {
        d.plays()
            .iter()
            .any(|p| p.broadcast == "短通知" && p.status == Status::Played)
    })
    .await;
    let plays = d.plays();
    let long = plays.iter().find(|p| p.broadcast == "长公告").unwrap();
    assert_eq!(long.heard, Some(false), "{long:?}");
    assert_eq!(long.outage_id, Some(o.id));
    let first_short = plays.iter().find(|p| p.broadcast == "短通知").unwrap();
    assert_eq!(first_short.heard, Some(false));
    assert_eq!(first_short.outage_id, Some(o.id));

    // Power back before 08:03: the next play is heard and closes it.
    m.signal.store(true, Ordering::SeqCst);
    d.run_for(Duration::from_secs(70)).await;
    d.wait("08:03 played", || {
        d.plays()
            .iter()
            .filter(|p| p.broadcast == "短通知" && p.status == Status::Played)
            .count()
            == 2
    })
    .await;
    let o = &signal_outages(&d)[0];
    assert!(
        o.ended_at
            .is_some_and(|e| near(e, sh("2026-12-01 08:03:00"))),
        "closed at the first heard play: {o:?}"
    );
    assert_eq!(o.lost, 2, "the two silent plays point at it");
    let heard: Vec<Option<bool>> = d
        .plays()
        .iter()
        .filter(|p| p.broadcast == "短通知")
        .map(|p| p.heard)
        .collect();
    assert_eq!(heard, [Some(false), Some(true)]);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_while_idle_opens_nothing() {
    let st = TempStation::new();
    st.wav("a.wav", 2.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"晚间\"\nplay = [\"a.wav\"]\nat = [\"20:00\"]\n",
    );
    let clock = TestClock::new(sh("2026-12-01 08:00:00"));
    let m = monitor(&clock, false);
    let d = Running::start_monitored(st.path(), clock, &m, Duration::from_secs(5)).await;
    d.run_for(Duration::from_secs(60)).await;
    assert!(d.outages().is_empty(), "{:?}", d.outages());
    assert!(d.plays().is_empty());
    assert_eq!(
        m.reads.load(Ordering::SeqCst),
        0,
        "nothing is measured while nothing plays"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_failing_mid_play_is_not_silence() {
    let st = TempStation::new();
    st.wav("a.wav", 20.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"通知\"\nplay = [\"a.wav\"]\nat = [\"08:00\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let m = monitor(&clock, false);
    let d = Running::start_monitored(st.path(), clock, &m, Duration::from_secs(5)).await;
    d.run_for(Duration::from_secs(4)).await;
    m.broken.store(true, Ordering::SeqCst);
    d.run_for(Duration::from_secs(20)).await;
    d.wait("played", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Played)
    })
    .await;
    let p = &d.plays()[0];
    assert_eq!(p.heard, None, "unverified: {p:?}");
    let o = d.outages();
    assert!(o.iter().all(|o| o.kind != OutageKind::Signal), "{o:?}");
    assert!(
        o.iter()
            .any(|o| o.kind == OutageKind::Output && o.subject == "monitor:test-monitor"),
        "{o:?}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_back_in_the_same_play_closes_the_outage_then() {
    let st = TempStation::new();
    st.wav("长.wav", 60.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"长公告\"\nplay = [\"长.wav\"]\nat = [\"08:00\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let m = monitor(&clock, false);
    let d = Running::start_monitored(st.path(), clock.clone(), &m, Duration::from_secs(5)).await;
    d.run_for(Duration::from_secs(10)).await;
    d.wait("the signal outage", || !signal_outages(&d).is_empty())
        .await;
    d.run_for(Duration::from_secs(10)).await;
    let back = clock.now();
    m.signal.store(true, Ordering::SeqCst);
    d.run_for(Duration::from_secs(45)).await;
    d.wait("played", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Played)
    })
    .await;
    let o = &signal_outages(&d)[0];
    let end = o.ended_at.expect("closed");
    assert!(
        near(end, back),
        "ends when the signal came back ({back}), not at the play's end: {o:?}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_step_during_a_heard_play_is_not_silence() {
    let st = TempStation::new();
    st.wav("a.wav", 20.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"通知\"\nplay = [\"a.wav\"]\nat = [\"08:00\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let m = monitor(&clock, true);
    let d = Running::start_monitored(st.path(), clock.clone(), &m, Duration::from_secs(5)).await;
    d.run_for(Duration::from_secs(5)).await;
    clock.step(TimeDelta::minutes(3));
    d.run_for(Duration::from_secs(25)).await;
    d.wait("played", || {
        d.plays().iter().any(|p| p.status == Status::Played)
    })
    .await;
    assert!(signal_outages(&d).is_empty(), "{:?}", d.outages());
    assert_eq!(d.plays()[0].heard, Some(true));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_monitor_is_its_own_fault_not_a_signal_outage() {
    let st = TempStation::new();
    st.wav("a.wav", 8.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"通知\"\nplay = [\"a.wav\"]\nat = [\"08:00\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let m = monitor(&clock, false);
    m.broken.store(true, Ordering::SeqCst);
    let d = Running::start_monitored(st.path(), clock, &m, Duration::from_secs(3)).await;
    d.run_for(Duration::from_secs(12)).await;
    d.wait("played", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Played)
    })
    .await;
    let p = &d.plays()[0];
    assert_eq!(p.heard, None, "unverified, not silent: {p:?}");
    let o = d.outages();
    assert!(o.iter().all(|o| o.kind != OutageKind::Signal), "{o:?}");
    let fault = o
        .iter()
        .find(|o| o.kind == OutageKind::Output)
        .expect("the monitor's own outage");
    assert_eq!(fault.subject, "monitor:test-monitor");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_self_test_not_heard_is_a_fault() {
    let st = TempStation::new();
    st.write(
        "cunxiang.toml",
        "[monitor]\ninput = \"rodio\"\nself_test = \"06:30\"\n",
    );
    let clock = TestClock::new(sh("2026-12-01 06:29:58"));
    let m = monitor(&clock, false);
    let d = Running::start_monitored(st.path(), clock, &m, Duration::from_secs(15)).await;
    d.run_for(Duration::from_secs(8)).await;
    d.wait("the self-test decided", || {
        d.plays()
            .first()
            .is_some_and(|p| p.status == Status::Played && p.heard.is_some())
    })
    .await;
    let p = &d.plays()[0];
    assert_eq!(p.broadcast, cunxiang::daemon::SELF_TEST);
    assert_eq!(p.heard, Some(false));
    let o = signal_outages(&d);
    assert_eq!(o.len(), 1, "a failed self-test is a fault at once");
    assert_eq!(p.outage_id, Some(o[0].id));
    d.stop().await;
}

mod terminals {
    use super::*;
    use std::net::TcpListener;

    fn terminals(o: &[OutageRow]) -> Vec<&OutageRow> {
        o.iter()
            .filter(|o| o.kind == OutageKind::Terminal)
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn down_after_three_failures_up_again_no_flapping() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let st = TempStation::new();
        st.write(
            "cunxiang.toml",
            format!(
                "[[terminal]]\nname = \"东头音柱\"\nlocation = \"村东头\"\naddress = \"{addr}\"\ninterval = \"1s\"\nfailures = 3\n"
            ),
        );
        let clock = TestClock::new(sh("2026-12-01 10:00:00"));
        let d = Running::start(st.path(), clock.clone()).await;
        d.run_for(Duration::from_secs(3)).await;
        assert!(terminals(&d.outages()).is_empty());

        // One lost probe (the terminal restarts): no outage.
        drop(listener);
        d.run_for(Duration::from_millis(1000)).await;
        let listener = TcpListener::bind(addr).unwrap();
        d.run_for(Duration::from_secs(4)).await;
        assert!(terminals(&d.outages()).is_empty(), "no flapping");

        // Unplugged for good: down after three failed probes, from the first.
        drop(listener);
        let gone = clock.now();
        d.run_for(Duration::from_secs(2)).await;
        assert!(
            terminals(&d.outages()).is_empty(),
            "two failures are not yet down"
        );
        d.run_for(Duration::from_secs(2)).await;
        d.wait("the terminal outage", || {
            !terminals(&d.outages()).is_empty()
        })
        .await;
        let o = d.outages();
        let o = terminals(&o)[0].clone();
        assert_eq!(o.subject, "东头音柱（村东头）");
        assert!(
            o.started_at >= gone && o.started_at - gone <= TimeDelta::milliseconds(1100),
            "starts at the first failed probe: {o:?} (gone {gone})"
        );
        assert!(o.ended_at.is_none());

        // Back: the next probe closes it.
        let _listener = TcpListener::bind(addr).unwrap();
        let back = clock.now();
        d.run_for(Duration::from_secs(2)).await;
        d.wait("closed", || {
            terminals(&d.outages()).iter().all(|o| o.ended_at.is_some())
        })
        .await;
        let o = d.outages();
        let o = terminals(&o)[0].clone();
        let end = o.ended_at.unwrap();
        assert!(
            end >= back && end - back <= TimeDelta::milliseconds(1100),
            "ends at the first answer: {o:?}"
        );
        assert_eq!(terminals(&d.outages()).len(), 1);
        d.stop().await;
    }

    /// A tiny HTTP server answering every request with `code`.
    fn http_server(code: Arc<std::sync::atomic::AtomicU16>) -> std::net::SocketAddr {
        use std::io::{Read, Write};
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let c = code.load(Ordering::SeqCst);
                let _ = write!(
                    s,
                    "HTTP/1.1 {c} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_http_probe_needs_a_2xx() {
        let code = Arc::new(std::sync::atomic::AtomicU16::new(200));
        let addr = http_server(code.clone());
        let st = TempStation::new();
        st.write(
            "cunxiang.toml",
            format!(
                "[[terminal]]\nname = \"西头音柱\"\naddress = \"{addr}\"\nprobe = \"http\"\npath = \"/status\"\ninterval = \"1s\"\nfailures = 2\n"
            ),
        );
        let clock = TestClock::new(sh("2026-12-01 10:00:00"));
        let d = Running::start(st.path(), clock).await;
        d.run_for(Duration::from_secs(3)).await;
        assert!(terminals(&d.outages()).is_empty());
        code.store(503, Ordering::SeqCst);
        d.run_for(Duration::from_secs(3)).await;
        d.wait("down on 503", || !terminals(&d.outages()).is_empty())
            .await;
        let o = d.outages();
        assert!(
            terminals(&o)[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("503"),
            "{o:?}"
        );
        code.store(204, Ordering::SeqCst);
        d.run_for(Duration::from_secs(2)).await;
        d.wait("up on 204", || {
            terminals(&d.outages()).iter().all(|o| o.ended_at.is_some())
        })
        .await;
        d.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outages_of_terminals_no_longer_configured_are_closed() {
        let st = TempStation::new();
        let t0 = sh("2026-12-01 09:00:00");
        {
            let store = cunxiang::store::Store::open(&st.path().join("var")).unwrap();
            store
                .open_outage(OutageKind::Terminal, "旧音柱（村西头）", t0, "gone")
                .unwrap();
            store
                .open_outage(OutageKind::Signal, "file:old.wav", t0, "silence")
                .unwrap();
        }
        let clock = TestClock::new(sh("2026-12-01 10:00:00"));
        let d = Running::start(st.path(), clock).await;
        let o = d.outages();
        assert_eq!(o.len(), 2, "{o:?}");
        assert!(
            o.iter()
                .all(|o| o.ended_at == Some(sh("2026-12-01 10:00:00"))),
            "closed at start-up, nothing would close them later: {o:?}"
        );
        d.stop().await;
    }
}

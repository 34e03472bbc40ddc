//! `/metrics` and `deploy/prometheus/` checked by Prometheus' own
//! `promtool` (Debian package `prometheus`): the exposition format of a
//! real scrape, the alert rules, their unit tests, the scrape example.

mod common;

use common::{http, sh, Running, TempStation};
use cunxiang::clock::TestClock;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn deploy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus")
}

/// Runs promtool; returns (success, stdout + stderr).
fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut c = Command::new("promtool");
    c.args(args)
        .current_dir(deploy())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .expect("promtool is needed: apt-get install prometheus (./dev test installs it)");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let (ok, out) = promtool(&["check", "rules", "cunxiang-alerts.yml"], None);
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS: 6 rules found"), "{out}");
    let (ok, out) = promtool(&["test", "rules", "cunxiang-alerts.test.yml"], None);
    assert!(ok, "{out}");
    let (ok, out) = promtool(&["check", "config", "prometheus.yml"], None);
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_scrape_passes_promtool_check_metrics() {
    let st = TempStation::new();
    st.wav("ok.wav", 2.0);
    // One broadcast plays; one file is missing at air time (an open
    // `content` outage with a subject that needs label escaping).
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"好\"\nplay = [\"ok.wav\"]\nat = [\"08:00\"]\n\n\
         [[broadcast]]\nname = \"缺\"\nplay = [\"通知 \\\"新\\\".wav\"]\nat = [\"08:00:05\"]\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    d.run_for(Duration::from_secs(10)).await;
    d.wait("both firings decided", || {
        d.plays().len() == 2 && d.plays().iter().all(|p| p.ended_at.is_some())
    })
    .await;
    let (code, text) = http("GET", &format!("{base}/metrics"), None, &[]).await;
    assert_eq!(code, 200);
    for want in [
        "cunxiang_up 1",
        "cunxiang_plays_today{status=\"played\"} 1",
        "cunxiang_plays_today{status=\"failed\"} 1",
        "cunxiang_open_outages{kind=\"content\"} 1",
        "cunxiang_outage_open_since_timestamp_seconds{kind=\"content\",subject=\"通知 \\\"新\\\".wav\"}",
        "cunxiang_next_firing_timestamp_seconds",
        "cunxiang_last_heartbeat_timestamp_seconds",
        "cunxiang_time_seconds",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    let (ok, out) = promtool(&["check", "metrics"], Some(&text));
    assert!(ok, "{out}\n{text}");
    d.stop().await;
}

/// A clean stop with a steady scraper: the sound stops, the face stays
/// up until the next /metrics, which says `cunxiang_stopping 1`, then the
/// process exits (the rule's way to tell it from a power cut). With no
/// scraper the stop is immediate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_tells_the_next_scrape_then_exits() {
    use common::Daemon;
    let st = TempStation::new();
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let url = format!("http://{}/metrics", d.address("var"));
    let (_, first) = http("GET", &url, None, &[]).await;
    assert!(first.contains("cunxiang_stopping 0"), "{first}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    http("GET", &url, None, &[]).await;
    d.signal(nix::sys::signal::Signal::SIGTERM);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (code, last) = http("GET", &url, None, &[]).await;
    assert_eq!(code, 200);
    assert!(last.contains("cunxiang_stopping 1"), "{last}");
    let t = std::time::Instant::now();
    assert!(d.stop(3).success());
    assert!(t.elapsed() < Duration::from_secs(2));

    // No scraper: SIGTERM ends it at once.
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("var");
    let t = std::time::Instant::now();
    assert!(d.stop(3).success());
    assert!(t.elapsed() < Duration::from_secs(2));
}

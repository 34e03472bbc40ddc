//! `cunxiang county-report` against a real Prometheus (Debian's package)
//! holding three days of two villages' samples, backfilled with
//! `promtool tsdb create-blocks-from openmetrics`: each day's final play
//! counts summed over the month, the share of scrapes answered, the
//! minutes with an open fault; CSV with a BOM.
#![cfg(target_os = "linux")]

mod common;

use common::cunxiang;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Three local days (Asia/Shanghai) of 1-minute samples, 1–3 November
/// 2026: 李家村 answers every scrape, plays one more broadcast each local
/// hour (23 by each day's end) and misses one each afternoon, and has a
/// power fault open for 30 minutes on the 2nd; 王庄 is down for 6 of the
/// 72 hours.
fn openmetrics() -> String {
    let start = chrono::DateTime::parse_from_rfc3339("2026-10-31T16:00:00Z")
        .unwrap()
        .timestamp();
    let mut s = String::new();
    let li = "job=\"cunxiang\",county=\"某县\",township=\"城关镇\",station=\"李家村\"";
    let wang = "job=\"cunxiang\",county=\"某县\",township=\"河口乡\",station=\"王庄\"";
    let hour = |m: i64| (m / 60) % 24;
    // A metric family is written once: both villages' `up` together.
    writeln!(s, "# TYPE up gauge").unwrap();
    for (labels, down) in [(li, None), (wang, Some(30 * 60..36 * 60))] {
        for m in 0..(72 * 60) {
            let v = if down
                .as_ref()
                .is_some_and(|d: &std::ops::Range<i64>| d.contains(&m))
            {
                0
            } else {
                1
            };
            writeln!(s, "up{{{labels}}} {v} {}", start + m * 60).unwrap();
        }
    }
    writeln!(s, "# TYPE cunxiang_plays_today gauge").unwrap();
    for m in 0..(72 * 60) {
        let t = start + m * 60;
        writeln!(
            s,
            "cunxiang_plays_today{{{li},status=\"played\"}} {} {t}",
            hour(m)
        )
        .unwrap();
        writeln!(
            s,
            "cunxiang_plays_today{{{li},status=\"missed\"}} {} {t}",
            i64::from(hour(m) >= 13)
        )
        .unwrap();
    }
    writeln!(s, "# TYPE cunxiang_open_outages gauge").unwrap();
    for m in 0..(72 * 60) {
        let open = (24 * 60 + 600..24 * 60 + 630).contains(&m);
        writeln!(
            s,
            "cunxiang_open_outages{{{li},kind=\"power\"}} {} {}",
            i64::from(open),
            start + m * 60
        )
        .unwrap();
    }
    s.push_str("# EOF\n");
    s
}

#[test]
fn a_month_per_village_from_the_countys_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("in.om");
    std::fs::write(&om, openmetrics()).unwrap();
    let tsdb = dir.path().join("tsdb");
    let made = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .output()
        .expect("promtool is needed: apt-get install prometheus (./dev test installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is needed: apt-get install prometheus");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{base}/-/ready")).call().is_err() {
        assert!(Instant::now() < deadline, "prometheus never got ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = cunxiang()
        .args([
            "county-report",
            "--prometheus",
            &base,
            "--month",
            "2026-11",
            "--json",
        ])
        .output()
        .unwrap();
    let csv = cunxiang()
        .args(["county-report", "--prometheus", &base, "--month", "2026-11"])
        .output()
        .unwrap();
    let _ = prom.kill();
    let _ = prom.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let li = &rows[0];
    assert_eq!(
        (li["township"].as_str(), li["station"].as_str()),
        (Some("城关镇"), Some("李家村"))
    );
    assert_eq!(li["played"], 69, "23 a day for three days: {li}");
    assert_eq!(li["missed"], 3, "{li}");
    assert_eq!(li["online"], 1.0);
    let fault = li["fault_minutes"].as_i64().unwrap();
    assert!((29..=31).contains(&fault), "30 minutes of fault: {fault}");
    let wang = &rows[1];
    assert_eq!(wang["station"], "王庄");
    let online = wang["online"].as_f64().unwrap();
    assert!(
        (online - 66.0 / 72.0).abs() < 0.01,
        "down 6 of 72 hours: {online}"
    );
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with('\u{feff}'), "a BOM for WPS");
    assert!(
        text.contains("某县,城关镇,李家村,100.0%,72,69,0,0,3,95.8%,"),
        "{text}"
    );
}

/// Starts Prometheus on `config` with a fresh storage; its base URL.
fn prometheus(dir: &std::path::Path, config: &str) -> (std::process::Child, String) {
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is needed: apt-get install prometheus");
    (child, format!("http://127.0.0.1:{port}"))
}

#[test]
fn the_county_page_lists_a_dead_village_and_a_broken_schedule() {
    use common::{Daemon, TempStation};
    let ok = TempStation::new();
    ok.wav("a.wav", 1.0);
    ok.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"a\"\nplay = [\"a.wav\"]\nat = [\"03:00\"]\n",
    );
    let broken = TempStation::new();
    broken.wav("a.wav", 1.0);
    broken.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"a\"\nplay = [\"a.wav\"]\nat = [\"03:00\"]\n",
    );
    broken.schedule("b.toml", "[[broadcast]\nname = \"坏\"\n");
    let d_ok = Daemon::start(ok.path(), &["--output", "null"]);
    let d_broken = Daemon::start(broken.path(), &["--output", "null"]);
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cunxiang\n    static_configs:\n      - targets: [\"{}\"]\n        labels: {{station: 李家村, township: 城关镇}}\n      - targets: [\"{}\"]\n        labels: {{station: 王庄, township: 河口乡}}\n",
        d_ok.address("var"),
        d_broken.address("var")
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut prom, base) = prometheus(dir.path(), &config);
    let page = || {
        let out = cunxiang()
            .args(["county-page", "--prometheus", &base])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let wait = |what: &str, cond: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let p = page();
            if cond(&p) {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{p}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let p = wait("both villages and the broken schedule", &|p| {
        p.contains("<td>城关镇</td><td>1</td>")
            && p.contains("<td>河口乡</td><td>1</td>")
            && p.contains("节目单/设置文件")
    });
    assert!(p.contains("王庄") && p.contains("schedules/b.toml"), "{p}");
    assert!(!p.contains("断电"), "nothing is down yet: {p}");
    // A power cut at 李家村: it heads the list as power, since it was last heard.
    d_ok.signal(nix::sys::signal::Signal::SIGKILL);
    let p = wait("the dead village", &|p| p.contains("断电/死机"));
    assert!(
        p.contains("<td>李家村</td><td class=\"bad\">断电/死机</td>"),
        "{p}"
    );
    // Longest first: the schedule error began before the power cut.
    assert!(p.find("节目单/设置文件") < p.find("断电/死机"), "{p}");
    assert!(
        p.contains("检查广播电脑和功放/发射机供电"),
        "what to check: {p}"
    );
    let _ = prom.kill();
    let _ = prom.wait();
    d_broken.stop(20);
}

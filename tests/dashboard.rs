//! The dashboard in a real browser: Debian's Chromium, headless, against
//! the real binary on a seeded station with an open outage. Saves
//! `target/dashboard.png` (and `target/dashboard-en.png`) for a person to
//! look at.
#![cfg(target_os = "linux")]

mod common;

use chrono::{Duration as TimeDelta, Utc};
use common::{afternoon_zone, TempStation};
use cunxiang::store::{OutageKind, Status, Store, Trigger};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const XSS: &str = "<script>alert(1)</script>";

fn chromium() -> PathBuf {
    let bin = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("chromium"), PathBuf::from);
    let ok = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "Debian's chromium is needed for this test: apt-get install chromium (./dev test installs it)"
    );
    bin
}

/// Runs headless Chromium on `url` with its own profile; `args` say what
/// to produce (`--dump-dom`, `--screenshot=…`). Returns stdout.
fn browse(url: &str, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A week of history: the XSS-named broadcast aired every morning, a power
/// cut two days ago that cost a play, and a file missing since three hours
/// ago (an open `content` outage: the repair list).
fn seed(st: &TempStation) {
    st.wav("公告.wav", 2.0);
    st.schedule(
        "a.toml",
        &format!(
            "[[broadcast]]\nname = \"{}\"\nplay = [\"公告.wav\"]\nat = [\"08:00\", \"12:00\", \"17:30\"]\n\n\
             [[broadcast]]\nname = \"停水通知\"\nplay = [\"通知/停水.wav\"]\nat = [\"09:00\"]\n",
            XSS.replace('"', "\\\"")
        ),
    );
    let now = Utc::now();
    // The station's zone is one where it is mid-afternoon now, so today's
    // timeline has aired marks whatever hour the suite runs at (in
    // Shanghai, before 08:00 it had none and the test failed).
    let tz = afternoon_zone(now);
    st.write("cunxiang.toml", format!("timezone = \"{}\"\n", tz.name()));
    let store = Store::open(&st.path().join("var")).unwrap();
    let today = now.with_timezone(&tz).date_naive();
    for back in 0..7 {
        let day = today - TimeDelta::days(back);
        for (h, m) in [(8, 0), (12, 0), (17, 30)] {
            let at = cunxiang::plan::local_instant(tz, day.and_hms_opt(h, m, 0).unwrap()).unwrap();
            if at >= now - TimeDelta::minutes(5) {
                continue;
            }
            let (status, started, reason) = if back == 2 && h == 12 {
                (Status::Missed, None, Some("not_running"))
            } else {
                (Status::Played, Some(at), None)
            };
            let id = store
                .insert_play(&cunxiang::store::NewPlay {
                    broadcast: XSS,
                    scheduled_at: at,
                    started_at: started,
                    ended_at: started.map(|s| s + TimeDelta::seconds(30)),
                    status,
                    reason,
                    trigger: Trigger::Schedule,
                    priority: "normal",
                    files: &["公告.wav".to_string()],
                })
                .unwrap()
                .unwrap();
            if status == Status::Missed {
                let o = store
                    .closed_outage(
                        OutageKind::Power,
                        "",
                        at - TimeDelta::hours(1),
                        at + TimeDelta::hours(2),
                        "no clean stop",
                    )
                    .unwrap();
                store.link_outage(id, o).unwrap();
            }
        }
    }
    let since = now - TimeDelta::hours(3);
    let (o, _) = store
        .open_outage(
            OutageKind::Content,
            "通知/停水.wav",
            since,
            "file not found",
        )
        .unwrap();
    let id = store
        .insert_play(&cunxiang::store::NewPlay {
            broadcast: "停水通知",
            scheduled_at: since,
            started_at: Some(since),
            ended_at: Some(since),
            status: Status::Failed,
            reason: Some("content: 通知/停水.wav: file not found"),
            trigger: Trigger::Schedule,
            priority: "normal",
            files: &["通知/停水.wav".to_string()],
        })
        .unwrap()
        .unwrap();
    store.link_outage(id, o).unwrap();
}

fn address(station: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(a) = Store::open_existing(&station.join("var"))
            .ok()
            .and_then(|s| s.meta(cunxiang::store::keys::CONTROL_ADDR).ok().flatten())
        {
            return a;
        }
        assert!(Instant::now() < deadline, "the daemon never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let a = s
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in the page"));
    let rest = &s[a..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

#[test]
fn the_dashboard_renders_in_a_browser() {
    let st = TempStation::new();
    seed(&st);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"))
        .arg("--station")
        .arg(st.path())
        .args([
            "run",
            "--no-watch",
            "--output",
            "null",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(st.path().join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let addr = address(st.path());
    let url = format!("http://{addr}/");

    let dom = browse(&url, &["--dump-dom"]);
    // State and the repair list first, with the missing file, what it cost
    // and what to check.
    assert!(dom.contains("header class=\"fault\""), "{dom}");
    let repair = between(&dom, "id=\"repair-list\"", "id=\"now-playing\"");
    assert!(repair.contains("通知/停水.wav"), "{repair}");
    assert!(repair.contains("损失节目 1"), "{repair}");
    assert!(repair.contains("检查："), "{repair}");
    assert!(
        dom.find("id=\"repair-list\"") < dom.find("id=\"timeline\""),
        "the repair list comes before the charts"
    );
    // Today's timeline and the week's availability, inline SVG.
    let timeline = between(&dom, "<svg id=\"timeline\"", "</svg>");
    assert!(timeline.contains("class=\"planned\""), "{timeline}");
    assert!(
        timeline.contains("class=\"aired\"") || timeline.contains("class=\"notaired\""),
        "{timeline}"
    );
    let bars = between(&dom, "<svg id=\"availability\"", "</svg>");
    assert_eq!(bars.matches("class=\"day\"").count(), 7, "{bars}");
    assert!(
        bars.contains("87.5%"),
        "three hours of power cut two days ago: {bars}"
    );
    // The hostile name is text, never markup: our own refresh script is the
    // only script element in the page.
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains(XSS), "{dom}");
    assert_eq!(dom.matches("<script").count(), 1, "{dom}");
    // The insert form posts to /play.
    assert!(dom.contains("action=\"/play\""), "{dom}");

    let en = browse(&format!("{url}?lang=en"), &["--dump-dom"]);
    assert!(
        en.contains("Repair list") && en.contains("Emergency insert"),
        "{en}"
    );

    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    for (name, page) in [
        ("dashboard.png", url.clone()),
        ("dashboard-en.png", format!("{url}?lang=en")),
    ] {
        let png = target.join(name);
        let _ = std::fs::remove_file(&png);
        browse(&page, &[&format!("--screenshot={}", png.display())]);
        let len = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(len > 20_000, "{} is {len} bytes", png.display());
    }
    let _ = child.kill();
    let _ = child.wait();
}

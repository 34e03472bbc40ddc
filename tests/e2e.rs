//! The real binary, in real time (seconds): `cunxiang run` with a capture
//! output, a kill -9 in the middle of a play, and the real rodio path
//! through an ALSA `type file` device.
#![cfg(target_os = "linux")]

mod common;

use chrono::Utc;
use common::binary::*;
use common::{cunxiang, FifoCard, TempStation};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn capture_and_log_agree() {
    let st = TempStation::new();
    st.wav("通知.wav", 1.0);
    let (t, hms) = soon(3);
    st.schedule("a.toml", &format!("[[broadcast]]\nname = \"通知\"\nplay = [\"通知.wav\"]\nat = [\"{hms}\"]\nchime = true\n"));
    let cap = st.path().join("cap.jsonl");
    let child = spawn(st.path(), &format!("capture:{}", cap.display()), &[], &[]);
    let rows = poll("played", 30, st.path(), |r| {
        r.first().is_some_and(|p| p["status"] == "played")
    });
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success(), "clean exit 0 on SIGTERM");

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&cap)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        (lines[0]["kind"].as_str(), lines[1]["kind"].as_str()),
        (Some("chime"), Some("content"))
    );
    assert_eq!(lines[1]["file"], "通知.wav");
    assert_eq!(lines[1]["duration_ms"], 1000);
    let row = &rows[0];
    assert_eq!(row["broadcast"], "通知");
    assert_eq!(instant(&row["scheduled_at"]), t);
    let started = instant(&row["started_at"]);
    assert_eq!(
        started.timestamp_millis(),
        instant(&lines[0]["at"]).timestamp_millis(),
        "log and capture agree on the start"
    );
    let late = (started - t).num_milliseconds();
    assert!(
        (0..1000).contains(&late),
        "on time: started {late} ms after the instant"
    );
    assert!(
        instant(&row["ended_at"]) >= instant(&lines[1]["at"]) + chrono::Duration::milliseconds(900)
    );
    assert_eq!(row["trigger"], "schedule");
    // The daemon's text log goes to a daily file under the data folder.
    let logs: Vec<_> = std::fs::read_dir(st.path().join("var/logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("cunxiang.log."));
    assert!(std::fs::read_to_string(&logs[0])
        .unwrap()
        .contains("played"));
    // The clean stop is recorded for the outage ledger.
    let s = cunxiang::store::Store::open_existing(&st.path().join("var")).unwrap();
    assert!(s.meta("clean_stop").unwrap().is_some());
}

#[test]
fn kill_9_mid_play_leaves_an_interrupted_row_and_a_sound_database() {
    let st = TempStation::new();
    st.wav("长.wav", 30.0);
    let (_, hms) = soon(2);
    st.schedule(
        "a.toml",
        &format!("[[broadcast]]\nname = \"长\"\nplay = [\"长.wav\"]\nat = [\"{hms}\"]\n"),
    );
    let child = spawn(st.path(), "null", &[], &[]);
    poll("playing", 30, st.path(), |r| {
        r.first()
            .is_some_and(|p| p["status"] == "playing" && !p["started_at"].is_null())
    });
    std::thread::sleep(Duration::from_millis(500));
    let before = log_json(st.path());
    assert_eq!(before[0]["status"], "playing");
    signal(&child, "KILL");
    let _ = wait_exit(child, 10);

    // Restart: the row becomes interrupted, nothing else changes, nothing replays.
    let child = spawn(st.path(), "null", &[], &[]);
    let after = poll("interrupted", 30, st.path(), |r| {
        r.first().is_some_and(|p| p["status"] == "interrupted")
    });
    std::thread::sleep(Duration::from_secs(2));
    let after2 = log_json(st.path());
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    assert_eq!(after.len(), 1);
    assert_eq!(
        after2.len(),
        1,
        "the cut firing is not played again: {after2:?}"
    );
    for k in [
        "id",
        "broadcast",
        "scheduled_at",
        "started_at",
        "trigger",
        "files",
    ] {
        assert_eq!(before[0][k], after2[0][k], "{k} unchanged");
    }
    assert_eq!(after2[0]["status"], "interrupted");
    let s = cunxiang::store::Store::open_existing(&st.path().join("var")).unwrap();
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn rodio_plays_through_an_alsa_file_device() {
    let card = FifoCard::new();
    let st = TempStation::new();
    st.wav("音.wav", 1.0);
    let (_, hms) = soon(3);
    st.schedule(
        "a.toml",
        &format!("[[broadcast]]\nname = \"声卡测试\"\nplay = [\"音.wav\"]\nat = [\"{hms}\"]\n"),
    );
    let home = card.home.path().to_str().unwrap().to_string();
    let child = spawn(
        st.path(),
        "rodio",
        &[("HOME", &home)],
        &["XDG_RUNTIME_DIR", "PULSE_SERVER"],
    );
    let rows = poll("played through ALSA", 30, st.path(), |r| {
        r.first().is_some_and(|p| p["status"] != "playing")
    });
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    assert_eq!(
        rows[0]["status"],
        "played",
        "{rows:?}\n{}",
        std::fs::read_to_string(st.path().join("daemon.log")).unwrap()
    );
    let loud = card.loud.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        loud > 1000,
        "the device received sound, not silence ({loud} non-zero bytes)"
    );
}

#[test]
fn an_edited_schedule_goes_on_air_without_a_restart() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"旧\"\nplay = [\"a.wav\"]\nat = [\"03:00\"]\n",
    );
    let child = spawn_with(st.path(), "null", &[], &[], true);
    std::thread::sleep(Duration::from_millis(800));
    // Saved by the operator while the daemon runs: a broadcast 4 s ahead.
    let (t, hms) = soon(4);
    st.schedule(
        "b.toml",
        &format!("[[broadcast]]\nname = \"新\"\nplay = [\"a.wav\"]\nat = [\"{hms}\"]\n"),
    );
    let rows = poll("the new broadcast played", 30, st.path(), |r| {
        r.iter()
            .any(|p| p["broadcast"] == "新" && p["status"] == "played")
    });
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    let row = rows.iter().find(|p| p["broadcast"] == "新").unwrap();
    assert_eq!(instant(&row["scheduled_at"]), t);
    assert_eq!(
        row["trigger"], "schedule",
        "picked up before its instant, played on time"
    );
}

/// kill -9 while idle, restart after more than two heartbeats: one `power`
/// outage spans the gap and the firings in it are missed against it; the
/// same with SIGTERM is `stopped`.
#[test]
fn power_cut_vs_a_persons_stop_through_the_binary() {
    for (sig, kind) in [("KILL", "power"), ("TERM", "stopped")] {
        let st = TempStation::new();
        st.wav("a.wav", 0.2);
        // A firing every second with a 1 s window: the gap costs several.
        st.schedule("a.toml", "[[broadcast]]\nname = \"每秒\"\nplay = [\"a.wav\"]\ncron = \"* * * * * *\"\ncatch_up = \"1s\"\n");
        let hb = [("X", "1")];
        let child = spawn_heartbeat(st.path(), &hb[..0]);
        poll("running", 30, st.path(), |r| {
            r.iter().any(|p| p["status"] == "played")
        });
        let (code, text) = status_code(st.path());
        assert_eq!(code, 0, "{text}");
        signal(&child, sig);
        let _ = wait_exit(child, 10);
        let down_at = Utc::now();
        std::thread::sleep(Duration::from_millis(3500));
        if sig == "KILL" {
            let (code, text) = status_code(st.path());
            assert_eq!(code, 1, "a silent daemon needs repair: {text}");
            assert!(text.contains("NOT running"), "{text}");
        } else {
            assert_eq!(
                status_code(st.path()).0,
                0,
                "a person's stop is not a fault"
            );
        }
        let up_at = Utc::now();
        let child = spawn_heartbeat(st.path(), &[]);
        let o = {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let o = outages_json(st.path());
                if !o.is_empty() || Instant::now() > deadline {
                    break o;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        std::thread::sleep(Duration::from_millis(500));
        signal(&child, "TERM");
        let status = wait_exit(child, 10);
        assert!(
            status.success(),
            "{status:?}\n{}",
            std::fs::read_to_string(st.path().join("daemon.log")).unwrap_or_default()
        );
        assert_eq!(o.len(), 1, "{sig}: {o:?}");
        assert_eq!(o[0]["kind"], kind);
        let (a, b) = (instant(&o[0]["started_at"]), instant(&o[0]["ended_at"]));
        assert!(
            a <= down_at + chrono::Duration::milliseconds(100)
                && down_at - a < chrono::Duration::seconds(2),
            "{sig}: starts at the last heartbeat {a} (down {down_at})"
        );
        assert!(
            b >= up_at - chrono::Duration::milliseconds(5)
                && b - up_at < chrono::Duration::seconds(5),
            "{sig}: ends at the restart: {b} vs {up_at}"
        );
        let id = o[0]["id"].as_i64().unwrap();
        let rows = log_json(st.path());
        let lost: Vec<_> = rows
            .iter()
            .filter(|p| p["outage_id"].as_i64() == Some(id))
            .collect();
        assert!(
            lost.len() >= 2,
            "{sig}: the firings in the gap point at it: {rows:?}"
        );
        assert!(lost.iter().all(|p| p["status"] == "missed"));
        for p in &lost {
            let t = instant(&p["scheduled_at"]);
            assert!(t >= a && t <= b, "{p}");
        }
        assert_eq!(o[0]["lost"].as_u64(), Some(lost.len() as u64));
        // The repair list: power is a fault (now closed), stopped never is.
        assert_eq!(status_code(st.path()).0, 0);
    }
}

fn spawn_heartbeat(station: &Path, _env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"));
    c.arg("--station")
        .arg(station)
        .args([
            "run",
            "--no-watch",
            "--output",
            "null",
            "--heartbeat",
            "500ms",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("LANG", "C.UTF-8")
        .env("RUST_LOG", "info");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(station.join("daemon.log"))
        .unwrap();
    c.stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start cunxiang run")
}

fn cli(station: &Path, args: &[&str]) -> (i32, String, String) {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(["--lang", "en"])
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// `play`, `stop` and a live `status` through the real binary and its HTTP
/// face; after the daemon stops, `play` says so and `status` falls back to
/// the store.
#[test]
fn play_stop_and_status_through_the_cli() {
    let st = TempStation::new();
    st.wav("警报.wav", 30.0);
    let cap = st.path().join("cap.jsonl");
    let child = spawn(st.path(), &format!("capture:{}", cap.display()), &[], &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, out, _) = cli(st.path(), &["status", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        if v["live"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon never answered: {out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, out, err) = cli(st.path(), &["play", "警报.wav", "--priority", "emergency"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"警报.wav\" is on air (emergency)"), "{out}");
    let (code, out, _) = cli(st.path(), &["status"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("now playing: 警报.wav（emergency，manual）"),
        "{out}"
    );
    let (_, out, _) = cli(st.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["now_playing"]["broadcast"], "警报.wav");
    assert_eq!(v["state_code"], 5);

    let (code, _, err) = cli(st.path(), &["play", "../cunxiang.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not a plain path under the audio folder"),
        "{err}"
    );
    let (code, _, err) = cli(st.path(), &["play", "none.wav", "--priority", "urgent"]);
    assert_eq!(code, 2, "{err}");

    let (code, out, _) = cli(st.path(), &["stop"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "stopped \"警报.wav\"");
    let rows = poll("the stopped play", 10, st.path(), |r| {
        r.iter().any(|r| r["status"] == "partial")
    });
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["trigger"], "manual");
    assert_eq!(rows[0]["priority"], "emergency");
    assert_eq!(rows[0]["reason"], "operator_stop");
    let (_, out, _) = cli(st.path(), &["stop"]);
    assert_eq!(out.trim(), "nothing was playing");

    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    let (code, _, err) = cli(st.path(), &["play", "警报.wav"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not running"), "{err}");
    let (_, out, _) = cli(st.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["live"].as_bool(), v["state"].as_str()),
        (Some(false), Some("stopped"))
    );
}

/// Listening beyond loopback without a token: the daemon refuses to start.
#[test]
fn no_token_off_loopback_refuses_to_start() {
    let st = TempStation::new();
    let (code, out, _) = cli(
        st.path(),
        &["run", "--output", "null", "--listen", "0.0.0.0:0"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("needs token"), "{out}");
    st.write("cunxiang.toml", "[control]\nlisten = \"0.0.0.0:7878\"\n");
    let (code, out, _) = cli(st.path(), &["check"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cunxiang.toml:2"), "{out}");
    assert!(out.contains("needs token"), "{out}");
}

/// Proof of air through the real binary: `[monitor] input = "file:…"` over
/// a silent WAV, then (next run) over a tone: the log's `heard` and the
/// `signal` outage follow.
#[test]
fn a_file_monitor_decides_heard_and_the_signal_outage() {
    let st = TempStation::new();
    st.wav("通知.wav", 4.0);
    let mut silent = common::wav_bytes(8000, 1.0);
    for b in &mut silent[44..] {
        *b = 0;
    }
    st.write("monitor.wav", &silent);
    st.write(
        "cunxiang.toml",
        "[monitor]\ninput = \"file:monitor.wav\"\nsilence_after = \"2s\"\n",
    );
    let (_, hms) = soon(3);
    st.schedule(
        "a.toml",
        &format!("[[broadcast]]\nname = \"通知\"\nplay = [\"通知.wav\"]\nat = [\"{hms}\"]\nchime = false\n"),
    );
    let child = spawn(st.path(), "null", &[], &[]);
    let rows = poll("the silent play", 30, st.path(), |r| {
        r.first().is_some_and(|p| p["status"] == "played")
    });
    assert_eq!(rows[0]["heard"], false, "{rows:?}");
    let o = outages_json(st.path());
    let sig: Vec<_> = o.iter().filter(|o| o["kind"] == "signal").collect();
    assert_eq!(sig.len(), 1, "{o:?}");
    assert_eq!(sig[0]["subject"], "file:monitor.wav");
    assert_eq!(sig[0]["open"], true);
    assert_eq!(sig[0]["lost"], 1);
    assert_eq!(rows[0]["outage_id"], sig[0]["id"]);
    let (code, out) = status_code(st.path());
    assert_eq!(code, 1, "a signal outage needs repair: {out}");
    assert!(
        out.contains("monitor input: file:monitor.wav — last level: -120.0 dBFS"),
        "{out}"
    );
    assert!(out.contains("[signal] file:monitor.wav"), "{out}");
    // The county sees it too, in a scrape promtool accepts.
    let addr = cunxiang::store::Store::open_existing(&st.path().join("var"))
        .unwrap()
        .meta(cunxiang::store::keys::CONTROL_ADDR)
        .unwrap()
        .unwrap();
    let metrics = ureq::get(format!("http://{addr}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    for want in [
        "cunxiang_open_outages{kind=\"signal\"} 1",
        "cunxiang_plays_verified_today 0",
        "cunxiang_plays_verified_share_today 0",
        "cunxiang_monitor_level_dbfs -120",
        "cunxiang_monitor_ok 1",
    ] {
        assert!(metrics.contains(want), "{want} missing:\n{metrics}");
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (apt-get install prometheus)");
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let res = check.wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stdout)
    );
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());

    // The amplifier is on again: the monitor hears a tone.
    st.write("monitor.wav", common::wav_bytes(8000, 1.0));
    let (_, hms) = soon(3);
    st.schedule(
        "a.toml",
        &format!("[[broadcast]]\nname = \"通知\"\nplay = [\"通知.wav\"]\nat = [\"{hms}\"]\nchime = false\n"),
    );
    let child = spawn(st.path(), "null", &[], &[]);
    let rows = poll("the heard play", 30, st.path(), |r| {
        r.len() == 2 && r[1]["status"] == "played"
    });
    assert_eq!(rows[1]["heard"], true, "{rows:?}");
    let o = outages_json(st.path());
    let sig: Vec<_> = o.iter().filter(|o| o["kind"] == "signal").collect();
    assert_eq!(sig[0]["open"], false, "closed by the heard play: {o:?}");
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    let (code, out) = status_code(st.path());
    assert_eq!(code, 0, "{out}");
}

/// The real capture path (cpal through ALSA) fed by an ALSA `type file`
/// device whose `infile` holds the "line-in" sound: a tone is heard,
/// zeros are silence.
#[test]
fn the_real_capture_path_through_an_alsa_infile() {
    let home = line_in_home();
    let mut heard = Vec::new();
    for infile in ["tone.raw", "zero.raw"] {
        line_in_from(home.path(), infile);
        let st = TempStation::new();
        st.wav("音.wav", 2.0);
        st.write("cunxiang.toml", "[monitor]\ninput = \"rodio\"\n");
        let (_, hms) = soon(3);
        st.schedule(
            "a.toml",
            &format!("[[broadcast]]\nname = \"测试\"\nplay = [\"音.wav\"]\nat = [\"{hms}\"]\nchime = false\n"),
        );
        let h = home.path().to_str().unwrap().to_string();
        let child = spawn(
            st.path(),
            "null",
            &[("HOME", &h)],
            &["XDG_RUNTIME_DIR", "PULSE_SERVER"],
        );
        let rows = poll("the monitored play", 30, st.path(), |r| {
            r.first().is_some_and(|p| p["status"] == "played")
        });
        signal(&child, "TERM");
        assert!(wait_exit(child, 10).success());
        heard.push(rows[0]["heard"].clone());
    }
    assert_eq!(heard, [serde_json::json!(true), serde_json::json!(false)]);
}

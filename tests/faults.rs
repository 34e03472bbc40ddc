//! Faults injected into the real binary, run as in a village: `cunxiang
//! run` with production logging (stderr a pipe that is drained, the daily
//! log file on), in real time (seconds, with deadlines). Each case asserts
//! what the operator sees: the as-run row, the outage, `status`'s exit
//! code, and that the next broadcast is on air.
#![cfg(target_os = "linux")]

mod common;

use common::{cunxiang, Daemon, FifoCard, TempStation};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A local time `secs` from now in Asia/Shanghai, as `at` takes it.
fn soon(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M:%S")
        .to_string()
}

/// Runs a CLI command on the station: exit code and stdout.
fn cli(station: &Path, args: &[&str]) -> (i32, String) {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn json(station: &Path, args: &[&str]) -> serde_json::Value {
    let (_, out) = cli(station, args);
    serde_json::from_str(&out).unwrap_or(serde_json::Value::Null)
}

fn outages(station: &Path) -> Vec<serde_json::Value> {
    json(station, &["outages", "--since", "all", "--format", "json"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn open_outage<'a>(
    v: &'a [serde_json::Value],
    kind: &str,
    subject: &str,
) -> Option<&'a serde_json::Value> {
    v.iter()
        .find(|o| o["kind"] == kind && o["subject"] == subject && o["open"] == true)
}

fn plays(station: &Path) -> Vec<serde_json::Value> {
    json(station, &["log", "--since", "all", "--format", "json"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// One `[[broadcast]]` entry playing `file` at `at`.
fn one(name: &str, file: &str, at: &str) -> String {
    format!("[[broadcast]]\nname = \"{name}\"\nplay = [\"{file}\"]\nat = [\"{at}\"]\n")
}

/// A schedule of two broadcasts, each (name, file, at).
fn schedule_two(st: &TempStation, a: (&str, &str, &str), b: (&str, &str, &str)) {
    st.schedule(
        "a.toml",
        &format!("{}\n{}", one(a.0, a.1, a.2), one(b.0, b.1, b.2)),
    );
}

/// Waits until `name` has a `played` row.
fn wait_played(d: &Daemon, name: &str, secs: u64) {
    d.wait(&format!("{name} played"), secs, || {
        plays(&d.station)
            .iter()
            .any(|p| p["broadcast"] == name && p["status"] == "played")
    });
}

/// The broadcast `name` started within 1 s of its scheduled instant.
fn assert_on_time(station: &Path, name: &str) {
    let p = plays(station);
    let row = p
        .iter()
        .find(|p| p["broadcast"] == name)
        .unwrap_or_else(|| panic!("no row for {name}: {p:?}"));
    let t = |k: &str| chrono::DateTime::parse_from_rfc3339(row[k].as_str().unwrap()).unwrap();
    let late = (t("started_at") - t("scheduled_at")).num_milliseconds();
    assert!((0..1000).contains(&late), "{name} on time: {row}");
}

/// How many threads of process `pid` have this name.
fn threads_named(pid: i32, name: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|rd| {
            rd.flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name)
                })
                .count()
        })
        .unwrap_or(0)
}

fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut r = agent.get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    match r.call() {
        Ok(mut resp) => (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

// ---------------------------------------------------------------------
// Finding 1: every thread may log. Wave 1 held the stderr lock for the
// whole run: the first log line of the terminals thread (and the monitor
// thread, and the sound device's error callback) blocked that thread for
// good, so a dead loudspeaker was never reported.

#[test]
fn every_thread_logs_and_keeps_working() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.write(
        "cunxiang.toml",
        "[monitor]\ninput = \"file:missing-monitor.wav\"\n\n\
         [[terminal]]\nname = \"东头音柱\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\nfailures = 2\n",
    );
    let at = soon(4);
    st.schedule("a.toml", &one("测试", "a.wav", &at));
    let d = Daemon::start(st.path(), &["--output", "null"]);
    // The terminals thread logged its probes and still reports: the
    // outage opens.
    d.wait("the terminal outage", 20, || {
        open_outage(&outages(st.path()), "terminal", "东头音柱").is_some()
    });
    // The monitor thread logged its failure during the play and still
    // reports: its own outage opens; the play itself went out.
    d.wait("the monitor's outage and the play", 25, || {
        let o = outages(st.path());
        open_outage(&o, "output", "monitor:file:missing-monitor.wav").is_some()
            && plays(st.path()).iter().any(|p| p["status"] == "played")
    });
    // An HTTP request that logs (a foreign Host) is answered, and the
    // dashboard still answers after it.
    let addr = d.address("var");
    let (code, _) = get(
        &format!("http://{addr}/api/status"),
        &[("Host", "evil.example")],
    );
    assert_eq!(code, 403);
    let (code, _) = get(&format!("http://{addr}/api/status"), &[]);
    assert_eq!(code, 200);
    // Both sinks got the other threads' lines.
    let file = d.log_file("var");
    for want in [
        "terminal changed state",
        "monitor input cannot be opened",
        "foreign host",
    ] {
        assert!(file.contains(want), "log file lacks {want:?}:\n{file}");
        assert!(d.stderr().contains(want), "stderr lacks {want:?}");
    }
    assert!(d.stop(10).success());
}

#[test]
fn a_terminal_dead_from_the_start_comes_back_then_dies() {
    let st = TempStation::new();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    st.write(
        "cunxiang.toml",
        format!("[[terminal]]\nname = \"西头音柱\"\naddress = \"127.0.0.1:{port}\"\ninterval = \"1s\"\nfailures = 2\n"),
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.wait("down from the start", 20, || {
        open_outage(&outages(st.path()), "terminal", "西头音柱").is_some()
    });
    assert_eq!(
        cli(st.path(), &["status"]).0,
        1,
        "a dead terminal needs repair"
    );
    // It comes back: the outage closes at the next probe.
    let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    d.wait("back up", 20, || {
        let o = outages(st.path());
        o.len() == 1 && o[0]["open"] == false
    });
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    // It dies again: a second outage opens.
    drop(l);
    d.wait("down again", 20, || {
        let o = outages(st.path());
        o.len() == 2 && open_outage(&o, "terminal", "西头音柱").is_some()
    });
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// Findings 2 and 3: a typo in cunxiang.toml. Wave 1 started on defaults
// (another database, no quiet hours) and, while running, reloaded about
// three times a second for as long as the file stayed broken.

const STATION: &str =
    "name = \"东村广播站\"\nquiet_hours = \"22:00-06:00\"\n\n[folders]\ndata = \"mydata\"\n";
const BROKEN: &str =
    "name = \"东村广播站\nquiet_hours = \"22:00-06:00\"\n\n[folders]\ndata = \"mydata\"\n";

#[test]
fn a_broken_station_file_at_start_runs_on_its_last_good_copy() {
    let st = TempStation::new();
    st.write("cunxiang.toml", STATION);
    st.wav("a.wav", 0.5);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"晨间\"\nplay = [\"a.wav\"]\nat = [\"07:00\"]\n",
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("mydata");
    assert!(d.stop(10).success());
    // The typo, then a restart.
    st.write("cunxiang.toml", BROKEN);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.wait("the daemon to start", 20, || {
        st.path().join("var").exists() || json(st.path(), &["status", "--json"])["live"] == true
    });
    assert!(
        !st.path().join("var").exists(),
        "never another data folder: {:?}",
        std::fs::read_dir(st.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>()
    );
    assert!(st.path().join(".cunxiang.toml.good").exists());
    let status = json(st.path(), &["status", "--json"]);
    assert_eq!(status["station"], "东村广播站", "{status}");
    assert_eq!(status["state"], "running", "the same history: {status}");
    assert_eq!(status["needs_repair"], true);
    let errors = status["schedule_errors"].to_string();
    assert!(errors.contains("cunxiang.toml:1"), "{errors}");
    assert!(
        open_outage(&outages(st.path()), "config", "cunxiang.toml").is_some(),
        "{:?}",
        outages(st.path())
    );
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    // The CLI reads the same folder as the daemon.
    let (_, text) = cli(st.path(), &["--lang", "en", "status"]);
    assert!(text.contains("cunxiang.toml"), "{text}");
    assert!(d.stop(10).success());
    // Quiet hours still hold: the plan for tonight skips a routine 23:00.
    st.schedule(
        "b.toml",
        "[[broadcast]]\nname = \"夜间\"\nplay = [\"a.wav\"]\nat = [\"23:00\"]\n",
    );
    let plan = json(st.path(), &["plan", "--format", "json"]);
    let night: Vec<_> = plan
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["broadcast"] == "夜间")
        .collect();
    assert!(
        !night.is_empty() && night.iter().all(|f| f["skipped"] == "quiet_hours"),
        "quiet hours kept: {plan}"
    );
}

#[test]
fn a_broken_station_file_with_no_good_copy_says_which_defaults() {
    let st = TempStation::new();
    st.write("cunxiang.toml", BROKEN);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"))
        .arg("--station")
        .arg(st.path())
        .args([
            "--lang",
            "en",
            "run",
            "--output",
            "null",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let d = Daemon {
        child: Some(child),
        station: st.path().to_path_buf(),
    };
    d.address("var");
    assert_eq!(
        cli(st.path(), &["status"]).0,
        1,
        "running on defaults needs repair"
    );
    assert!(d.stop(10).success());
    let mut header = String::new();
    stdout.read_to_string(&mut header).unwrap();
    assert!(header.contains("cunxiang.toml:1"), "{header}");
    assert!(
        header.contains("runs on defaults (data folder var"),
        "says loudly which defaults: {header}"
    );
}

#[test]
fn a_station_file_broken_while_running_is_read_once_and_kept() {
    let st = TempStation::new();
    st.write("cunxiang.toml", STATION);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"晨间\"\nplay = [\"a.wav\"]\nat = [\"07:00\"]\n",
    );
    st.wav("a.wav", 0.5);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("mydata");
    std::fs::write(st.path().join("cunxiang.toml"), BROKEN).unwrap();
    d.wait("the config outage", 10, || {
        open_outage(&outages(st.path()), "config", "cunxiang.toml").is_some()
    });
    // Reading every file (as status, check and a person do) and waiting
    // must not reload again.
    for _ in 0..5 {
        for f in ["cunxiang.toml", "schedules/a.toml"] {
            let _ = std::fs::read_to_string(st.path().join(f));
        }
        cli(st.path(), &["check"]);
        std::thread::sleep(Duration::from_millis(600));
    }
    std::thread::sleep(Duration::from_secs(2));
    let loads = d.log_file("mydata").matches("schedules loaded").count();
    assert_eq!(
        loads,
        2,
        "start and one reload, no storm:\n{}",
        d.log_file("mydata")
    );
    assert!(!st.path().join("var").exists());
    // Fixed: the outage closes and status is clean again.
    std::fs::write(st.path().join("cunxiang.toml"), STATION).unwrap();
    d.wait("the config outage to close", 10, || {
        outages(st.path()).iter().all(|o| o["open"] == false)
    });
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// The data folder edited (validly) while the daemon runs. It keeps the
// store and lock it started with until restarted; every command and the
// web face read that store, say a restart is needed, and a second daemon
// still refuses (before, it started on the new folder and every broadcast
// played twice).

#[test]
fn the_data_folder_edited_while_running_waits_for_a_restart() {
    // No quiet hours: the broadcast is due in 12 s whatever the time of
    // day the test runs (22:00-06:00 in Shanghai is 14:00-22:00 UTC).
    let station = STATION.replace("quiet_hours = \"22:00-06:00\"\n", "");
    let st = TempStation::new();
    st.write("cunxiang.toml", &station);
    st.wav("a.wav", 0.5);
    let at = soon(12);
    st.schedule("a.toml", &one("改后", "a.wav", &at));
    let d = Daemon::start(st.path(), &["--output", "capture:capture.jsonl"]);
    let addr = d.address("mydata");
    std::fs::write(
        st.path().join("cunxiang.toml"),
        station.replace("mydata", "newdata"),
    )
    .unwrap();
    d.wait("the reload", 10, || {
        d.log_file("mydata").matches("schedules loaded").count() >= 2
    });
    // status reads the running daemon's store and says what to do.
    let (code, out) = cli(st.path(), &["--lang", "en", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["state"], "running", "{v}");
    let warned = v["warnings"].to_string();
    assert!(warned.contains("restart"), "{v}");
    assert!(warned.contains("newdata"), "{v}");
    let (_, body) = get(&format!("http://{addr}/api/status?lang=en"), &[]);
    assert!(body.contains("restart"), "{body}");
    // A second daemon refuses, whatever data folder the file now names.
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args([
            "run",
            "--output",
            "capture:capture.jsonl",
            "--listen",
            "127.0.0.1:0",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the second refuses");
    // The broadcast plays once, recorded where the daemon's history is.
    wait_played(&d, "改后", 30);
    std::thread::sleep(Duration::from_secs(1));
    let captured = std::fs::read_to_string(st.path().join("capture.jsonl")).unwrap();
    assert_eq!(captured.lines().count(), 1, "played once: {captured}");
    assert!(!st.path().join("newdata/cunxiang.db").exists());
    assert!(d.stop(10).success());
    // Stopped: the next start takes the new folder, and says nothing more.
    let (_, out) = cli(st.path(), &["--lang", "en", "status", "--json"]);
    assert!(!out.contains("restart"), "{out}");
}

// ---------------------------------------------------------------------
// The database file missing while the daemon runs (deleted, before the
// heartbeat restores it) is a store fault, never "no database yet".

#[test]
fn a_missing_database_while_running_is_a_fault_not_a_fresh_station() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let at = soon(3);
    st.schedule("a.toml", &one("之前", "a.wav", &at));
    // A long heartbeat: the file stays missing while we look.
    let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "60s"]);
    let addr = d.address("var");
    wait_played(&d, "之前", 20);
    let moved = st.path().join("moved");
    std::fs::create_dir(&moved).unwrap();
    for f in ["cunxiang.db", "cunxiang.db-wal", "cunxiang.db-shm"] {
        let _ = std::fs::rename(st.path().join("var").join(f), moved.join(f));
    }
    let (code, out) = cli(st.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["needs_repair"], true, "{v}");
    assert!(v["store_error"].is_string(), "{v}");
    let (_, metrics) = get(&format!("http://{addr}/metrics"), &[]);
    assert!(metrics.contains("cunxiang_store_ok 0"), "{metrics}");
    assert_eq!(cli(st.path(), &["log"]).0, 1);
    assert_eq!(cli(st.path(), &["outages", "--open"]).0, 1);
    drop(d);
}

// ---------------------------------------------------------------------
// A data folder that is the station folder itself (`data = "."`): edits
// to the schedules still go on air (the data-folder rule once swallowed
// every change there).

#[test]
fn a_data_folder_in_the_station_folder_still_reloads() {
    let st = TempStation::new();
    st.write("cunxiang.toml", "[folders]\ndata = \".\"\n");
    st.wav("a.wav", 0.5);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"旧\"\nplay = [\"a.wav\"]\nat = [\"07:00\"]\n",
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address(".");
    let at = soon(6);
    st.schedule("a.toml", &one("新", "a.wav", &at));
    wait_played(&d, "新", 20);
    assert_on_time(st.path(), "新");
    // Its own files (database, logs, lock) never wake the watcher: two
    // loads, the start and the edit.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(d.log_file(".").matches("schedules loaded").count(), 2);
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// Finding 5: a schedule error is "needs repair", with the broadcasts it
// costs.

#[test]
fn a_broken_schedule_is_on_the_repair_list_and_costs_its_firings() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    st.schedule(
        "good.toml",
        "[[broadcast]]\nname = \"晨间\"\nplay = [\"a.wav\"]\nat = [\"07:00\"]\n",
    );
    // A new file with an error from the start: its good entry never had a
    // good version, so it is off air and its firing is logged missed.
    // 通知 is logged missed once its catch-up window closes; 修好's window
    // is still open when the file is fixed, so it plays, late.
    let at = soon(3);
    // 删除 is taken out by the fix while its window is open: logged missed
    // then, against the file.
    let fixed_in_time = format!(
        "[[broadcast]]\nname = \"修好\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\ncatch_up = \"5m\"\n"
    );
    st.schedule(
        "bad.toml",
        &format!(
            "[[broadcast]]\nname = \"通知\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\ncatch_up = \"4s\"\n\n\
             [[broadcast]]\nname = \"坏的\"\nplay = [\"a.wav\"]\nat = [\"25:00\"]\n\n{fixed_in_time}\n\
             [[broadcast]]\nname = \"删除\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\ncatch_up = \"5m\"\n"
        ),
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    d.wait("the config outage", 10, || {
        open_outage(&outages(st.path()), "config", "schedules/bad.toml").is_some()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    let (_, body) = get(&format!("http://{addr}/api/status"), &[]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["needs_repair"], true, "{v}");
    let (_, metrics) = get(&format!("http://{addr}/metrics"), &[]);
    assert!(
        metrics.contains("cunxiang_open_outages{kind=\"config\"} 1"),
        "{metrics}"
    );
    d.wait("the off-air firing logged missed", 15, || {
        plays(st.path())
            .iter()
            .any(|p| p["broadcast"] == "通知" && p["status"] == "missed")
    });
    let o = outages(st.path());
    let bad = open_outage(&o, "config", "schedules/bad.toml").unwrap();
    assert_eq!(bad["lost"], 1, "{bad}");
    assert!(
        bad["detail"].as_str().unwrap().contains("bad.toml:10"),
        "{bad}"
    );
    assert!(
        !plays(st.path()).iter().any(|p| p["broadcast"] == "修好"),
        "not logged while its window is open"
    );
    // Fixed: closed, status is clean, and what could still play plays.
    st.schedule(
        "bad.toml",
        &format!(
            "[[broadcast]]\nname = \"通知\"\nplay = [\"a.wav\"]\nat = [\"08:00\"]\n\n{fixed_in_time}"
        ),
    );
    d.wait("the outage to close", 10, || {
        open_outage(&outages(st.path()), "config", "schedules/bad.toml").is_none()
    });
    wait_played(&d, "修好", 15);
    let row = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "修好")
        .unwrap();
    assert_eq!(row["trigger"], "catch_up", "{row}");
    let gone = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "删除")
        .expect("the entry taken out is logged");
    assert_eq!(gone["status"], "missed", "{gone}");
    let bad = outages(st.path())
        .into_iter()
        .find(|o| o["subject"] == "schedules/bad.toml")
        .unwrap();
    assert_eq!(bad["lost"], 2, "通知 and 删除: {bad}");
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// A schedule broken while the daemon was down (a syntax error saved
// during a power cut): its last good version was kept in the store, so it
// still goes on air after the restart. A file that never had a good
// version costs its firings; those that fell in the power cut are the
// power cut's.

#[test]
fn a_schedule_broken_while_down_goes_on_air_from_its_kept_good_version() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let keep_at = soon(22);
    let good =
        format!("[[broadcast]]\nname = \"保留\"\nplay = [\"a.wav\"]\nat = [\"{keep_at}\"]\n");
    st.schedule("a.toml", &good);
    let never_at = soon(6);
    st.schedule(
        "never.toml",
        &format!("[[broadcast]]\nname = \"从未\"\nplay = [\"a.wav\"]\nat = [\"{never_at}\"]\ncatch_up = \"2s\"\n\n[[broadcast]]\nname = \"坏的\"\nplay = [\"a.wav\"]\nat = [\"25:00\"]\n"),
    );
    let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
    d.address("var");
    std::thread::sleep(Duration::from_secs(1));
    // Power cut; meanwhile a person saves a.toml with an unclosed quote.
    d.signal(nix::sys::signal::Signal::SIGKILL);
    drop(d);
    st.schedule("a.toml", &good.replace("\"保留\"", "\"保留"));
    std::thread::sleep(Duration::from_secs(10));
    let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
    d.wait("the config outage", 15, || {
        open_outage(&outages(st.path()), "config", "schedules/a.toml").is_some()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    wait_played(&d, "保留", 30);
    assert_on_time(st.path(), "保留");
    // 从未 came due in the power cut: missed against it, not the file.
    let o = outages(st.path());
    let power = o
        .iter()
        .find(|o| o["kind"] == "power")
        .unwrap_or_else(|| panic!("a power outage: {o:?}"));
    assert_eq!(power["lost"], 1, "{power}");
    let row = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "从未")
        .expect("从未 logged");
    assert_eq!(row["status"], "missed", "{row}");
    assert_eq!(row["reason"], "not_running", "{row}");
    let never = open_outage(&o, "config", "schedules/never.toml").unwrap();
    assert_eq!(never["lost"], 0, "{never}");
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// An off-air firing still inside its catch-up window at a power cut, its
// file fixed while the PC was off: after the restart it plays (late),
// never left without a row.

#[test]
fn an_off_air_firing_fixed_during_a_power_cut_plays_after_the_restart() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let at = soon(4);
    let good = format!(
        "[[broadcast]]\nname = \"补播\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\ncatch_up = \"2m\"\n"
    );
    st.schedule(
        "a.toml",
        &format!("{good}\n[[broadcast]]\nname = \"坏的\"\nplay = [\"a.wav\"]\nat = [\"25:00\"]\n"),
    );
    // Another broadcast after it wakes the daemon past its instant.
    let other = soon(6);
    st.schedule("other.toml", &one("其它", "a.wav", &other));
    let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
    d.wait("the config outage", 15, || {
        open_outage(&outages(st.path()), "config", "schedules/a.toml").is_some()
    });
    wait_played(&d, "其它", 15);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !plays(st.path()).iter().any(|p| p["broadcast"] == "补播"),
        "inside its window: no row yet"
    );
    d.signal(nix::sys::signal::Signal::SIGKILL);
    drop(d);
    st.schedule("a.toml", &good);
    std::thread::sleep(Duration::from_secs(3));
    let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
    wait_played(&d, "补播", 20);
    let row = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "补播")
        .unwrap();
    assert_eq!(row["trigger"], "catch_up", "{row}");
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// Finding 6: a store that cannot be read is never "all clear".

#[test]
fn an_unreadable_store_is_never_all_clear() {
    let st = TempStation::new();
    st.write(
        "cunxiang.toml",
        "[[terminal]]\nname = \"音柱\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\nfailures = 1\n",
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    d.wait("an open outage", 15, || {
        open_outage(&outages(st.path()), "terminal", "音柱").is_some()
    });
    // What readers open is no longer a database (the daemon keeps
    // writing through its open handles).
    let db = st.path().join("var/cunxiang.db");
    std::fs::rename(&db, st.path().join("var/moved.db")).unwrap();
    std::fs::create_dir(&db).unwrap();
    let (code, body) = get(&format!("http://{addr}/api/status"), &[]);
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["needs_repair"], true, "{v}");
    assert!(v["store_error"].is_string(), "{v}");
    let (_, metrics) = get(&format!("http://{addr}/metrics"), &[]);
    assert!(metrics.contains("cunxiang_store_ok 0"), "{metrics}");
    assert!(
        !metrics.contains("cunxiang_open_outages{"),
        "no false zero: {metrics}"
    );
    // The CLI too: status needs repair, outages and log fail loudly.
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    assert_eq!(cli(st.path(), &["outages", "--open"]).0, 1);
    assert_eq!(cli(st.path(), &["log"]).0, 1);
    drop(d);
}

// ---------------------------------------------------------------------
// Finding 7: noise a technician reads every day.

#[test]
fn no_alsa_noise_and_no_stray_appender_line_without_a_sound_card() {
    let home = tempfile::tempdir().unwrap();
    // A default device that does not exist: alsa-lib complains on stderr
    // at every open ("ALSA lib pcm.c:…: Unknown PCM …").
    std::fs::write(
        home.path().join(".asoundrc"),
        "pcm.!default { type plug slave.pcm \"cunxiang_no_such_pcm\" }\n",
    )
    .unwrap();
    let st = TempStation::new();
    let d = Daemon::start_env(
        st.path(),
        &["--output", "rodio"],
        &[("HOME", home.path().to_str().unwrap())],
        &["XDG_RUNTIME_DIR", "PULSE_SERVER"],
    );
    d.wait("the output outage", 15, || {
        open_outage(&outages(st.path()), "output", "rodio:default").is_some()
    });
    // Let it retry the device a few times (1 s, 2 s, 4 s backoff).
    std::thread::sleep(Duration::from_secs(4));
    let o = outages(st.path());
    let detail = open_outage(&o, "output", "rodio:default").unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("ALSA"), "what ALSA said is kept: {detail}");
    let err = d.stderr();
    assert!(d.stop(10).success());
    assert!(!err.contains("ALSA lib"), "{err}");
    assert!(!err.contains("Error reading the log directory"), "{err}");
    assert_eq!(
        err.matches("outage opened").count(),
        1,
        "one line per state change: {err}"
    );
}

// ---------------------------------------------------------------------
// Two daemons on one station: the second refuses, nothing plays twice.

#[test]
fn a_second_daemon_on_the_station_refuses_and_nothing_plays_twice() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    let at = soon(5);
    st.schedule("a.toml", &one("一次", "a.wav", &at));
    let d = Daemon::start(st.path(), &["--output", "capture:capture.jsonl"]);
    d.address("var");
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args([
            "--lang",
            "en",
            "run",
            "--output",
            "capture:capture.jsonl",
            "--listen",
            "127.0.0.1:0",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the second refuses");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("already running"), "{text}");
    d.wait("the play", 20, || {
        plays(st.path()).iter().any(|p| p["status"] == "played")
    });
    std::thread::sleep(Duration::from_secs(1));
    let captured = std::fs::read_to_string(st.path().join("capture.jsonl")).unwrap();
    assert_eq!(captured.lines().count(), 1, "played once: {captured}");
    assert!(d.stop(10).success());
    // The lock goes with the process: a kill -9 leaves none behind.
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("var");
    d.signal(nix::sys::signal::Signal::SIGKILL);
    std::thread::sleep(Duration::from_millis(500));
    drop(d);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.wait("a restart after kill -9", 20, || {
        json(st.path(), &["status", "--json"])["live"] == true
    });
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// SIGSTOP for 90 s (a frozen process, a stuck VM), then SIGCONT.

#[test]
fn frozen_for_90_s_then_continued() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    // One firing while frozen (caught up after, inside its window), one
    // after the freeze (on time).
    // 冻结时 fires twice inside the freeze: as after a power cut, the
    // latest is caught up and the earlier one is missed against the freeze.
    // 冻结前 is on air when the freeze comes: the player is frozen too,
    // which is no stuck device.
    st.wav("长.wav", 20.0);
    let (before, first, during) = (soon(3), soon(30), soon(45));
    let after = soon(110);
    st.schedule(
        "a.toml",
        &format!(
            "[[broadcast]]\nname = \"冻结前\"\nplay = [\"长.wav\"]\nat = [\"{before}\"]\n\n\
             [[broadcast]]\nname = \"冻结时\"\nplay = [\"a.wav\"]\nat = [\"{first}\", \"{during}\"]\n\n\
             [[broadcast]]\nname = \"之后\"\nplay = [\"a.wav\"]\nat = [\"{after}\"]\n"
        ),
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("var");
    d.wait("冻结前 on air", 20, || {
        plays(st.path())
            .iter()
            .any(|p| p["broadcast"] == "冻结前" && p["status"] == "playing")
    });
    std::thread::sleep(Duration::from_secs(2));
    d.signal(nix::sys::signal::Signal::SIGSTOP);
    let stopped = Instant::now();
    // While frozen the heartbeat stops: status says it is down.
    d.wait("status to see it down", 60, || {
        cli(st.path(), &["status"]).0 == 1
    });
    let v = json(st.path(), &["status", "--json"]);
    assert_eq!(v["state"], "down", "{v}");
    let rest = Duration::from_secs(90).saturating_sub(stopped.elapsed());
    std::thread::sleep(rest);
    d.signal(nix::sys::signal::Signal::SIGCONT);
    // The firing that fell in the freeze is caught up, late, once.
    wait_played(&d, "冻结时", 20);
    // The freeze is in the ledger as downtime, with the firing it cost.
    let freeze = outages(st.path())
        .into_iter()
        .find(|o| {
            o["kind"] == "power"
                && o["open"] == false
                && o["detail"]
                    .as_str()
                    .is_some_and(|t| t.contains("did not run"))
        })
        .expect("the freeze recorded");
    assert_eq!(freeze["lost"], 1, "{freeze}");
    let rows: Vec<_> = plays(st.path())
        .into_iter()
        .filter(|p| p["broadcast"] == "冻结时")
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let missed = rows
        .iter()
        .find(|p| p["status"] == "missed")
        .expect("one missed");
    assert_eq!(missed["reason"], "not_running", "{missed}");
    let played = rows.iter().find(|p| p["status"] == "played").unwrap();
    assert_eq!(played["trigger"], "catch_up", "{played}");
    assert!(played["scheduled_at"].as_str() > missed["scheduled_at"].as_str());
    // The play on air across the freeze is not a stuck device.
    let o = outages(st.path());
    assert!(o.iter().all(|o| o["kind"] != "output"), "{o:?}");
    let before = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "冻结前")
        .unwrap();
    assert_ne!(before["status"], "failed", "{before}");
    assert!(
        !before["reason"].as_str().unwrap_or("").contains("stuck"),
        "{before}"
    );
    // The next broadcast is on air on time.
    wait_played(&d, "之后", 40);
    assert_on_time(st.path(), "之后");
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// The sound device stalls (its writes block) and comes back. The "sound
// card" is an ALSA `type file` device on a FIFO that a thread drains at
// the byte rate; holding the thread stops the drain, as a hung driver.

#[test]
fn a_stalled_sound_device_is_cut_and_the_next_broadcast_plays() {
    let card = FifoCard::new();
    let st = TempStation::new();
    st.wav("长.wav", 10.0);
    st.wav("短.wav", 1.0);
    let first = soon(6);
    let next = soon(45);
    schedule_two(&st, ("卡住", "长.wav", &first), ("下一个", "短.wav", &next));
    let d = Daemon::on_card(st.path(), &card);
    d.wait("the first play to start", 20, || {
        plays(st.path()).iter().any(|p| p["status"] == "playing")
    });
    std::thread::sleep(Duration::from_secs(1));
    card.set_hold(true);
    // Cut within seconds of the stall (not at the end, not never), logged,
    // and an output outage.
    d.wait("the stalled play cut and the outage", 15, || {
        let p = plays(st.path());
        let o = outages(st.path());
        p.iter().any(|p| {
            p["broadcast"] == "卡住"
                && p["status"] == "partial"
                && p["reason"].as_str().is_some_and(|r| r.contains("stalled"))
        }) && o.iter().any(|o| o["kind"] == "output" && o["lost"] == 1)
    });
    assert_eq!(
        cli(st.path(), &["status"]).0,
        1,
        "a stalled device needs repair"
    );
    // It stays stalled through several device retries: at most one
    // stream is left closing (each retry once left another thread and
    // file handle blocked on the device, for good).
    let mut most = 0;
    for _ in 0..18 {
        std::thread::sleep(Duration::from_secs(1));
        most = most.max(threads_named(d.pid(), "close-device"));
    }
    assert!(most <= 1, "{most} streams left closing on a stalled device");
    // The device comes back: the next broadcast is on air on time.
    card.set_hold(false);
    wait_played(&d, "下一个", 50);
    assert_on_time(st.path(), "下一个");
    assert!(card.bytes.load(std::sync::atomic::Ordering::SeqCst) > 0);
    assert!(
        outages(st.path()).iter().all(|o| o["open"] == false),
        "the output outage closed when sound went out again"
    );
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// A sound device faster than real time (ALSA's `type file` on the `null`
// plugin takes samples as fast as they come). A file that really played
// to its end is `played`: "ended early" is judged by what was decoded,
// not by wall time (every play was `partial` with a false content fault).

#[test]
fn a_device_faster_than_real_time_plays_files_whole() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".asoundrc"),
        "pcm.!default {\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n  format \"raw\"\n}\n",
    )
    .unwrap();
    let st = TempStation::new();
    st.wav("长.wav", 10.0);
    let at = soon(5);
    st.schedule("a.toml", &one("快", "长.wav", &at));
    let d = Daemon::start_env(
        st.path(),
        &["--output", "rodio"],
        &[("HOME", home.path().to_str().unwrap())],
        &["XDG_RUNTIME_DIR", "PULSE_SERVER"],
    );
    d.wait("the play to end", 30, || {
        plays(st.path())
            .iter()
            .any(|p| p["broadcast"] == "快" && p["status"] != "playing")
    });
    let row = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "快")
        .unwrap();
    assert_eq!(row["status"], "played", "{row}");
    let t = |k: &str| chrono::DateTime::parse_from_rfc3339(row[k].as_str().unwrap()).unwrap();
    assert!(
        (t("ended_at") - t("started_at")).num_seconds() < 5,
        "the device really ran faster than real time: {row}"
    );
    assert!(
        outages(st.path()).iter().all(|o| o["kind"] != "content"),
        "no false content fault"
    );
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// The HTTP face under load: 200 concurrent requests and 100 slow
// connections held open 30 s. The dashboard still answers and the
// broadcast in the middle of it is on air on time.

#[test]
fn the_http_face_under_load_and_slow_connections() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    let at = soon(20);
    st.schedule("a.toml", &one("压力", "a.wav", &at));
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    // 100 connections that send half a request and then nothing.
    let mut slow = Vec::new();
    for _ in 0..100 {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        slow.push(s);
    }
    // 200 requests at once.
    let handles: Vec<_> = (0..200)
        .map(|i| {
            let url = format!(
                "http://{addr}/{}",
                ["", "api/status", "metrics", "api/plays"][i % 4]
            );
            std::thread::spawn(move || get(&url, &[]).0)
        })
        .collect();
    let codes: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = codes.iter().filter(|c| **c == 200).count();
    assert_eq!(ok, 200, "every request answered: {codes:?}");
    // While the slow ones are still held, the dashboard answers.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let (code, body) = get(&format!("http://{addr}/"), &[]);
        assert_eq!(code, 200, "{body}");
        std::thread::sleep(Duration::from_secs(3));
    }
    drop(slow);
    assert_on_time(st.path(), "压力");
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// The database locked by another process for 30 s (a backup, a person in
// sqlite3; issue 18 item 5): the firing goes on air on time, its records
// wait in memory, the repair list says `store` meanwhile, and once the
// lock is gone the rows are written with a closed `store` outage.

/// The station's status through the running daemon (`status --json`).
fn open_store_fault(station: &Path) -> Option<serde_json::Value> {
    json(station, &["--lang", "en", "status", "--json"])["open_outages"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["kind"] == "store").cloned())
}

/// The closed `store` outages in the ledger.
fn closed_store_faults(station: &Path) -> Vec<serde_json::Value> {
    outages(station)
        .into_iter()
        .filter(|o| o["kind"] == "store" && o["open"] == false)
        .collect()
}

#[test]
fn the_database_locked_by_another_process_for_30_s() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    let during = soon(12);
    let after = soon(45);
    schedule_two(
        &st,
        ("锁住时", "a.wav", &during),
        ("解锁后", "a.wav", &after),
    );
    let mut d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
    let addr = d.address("var");
    let db = st.path().join("var/cunxiang.db");
    // Another process takes the write lock and holds it 30 s.
    let locker = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("BEGIN EXCLUSIVE").unwrap();
        std::thread::sleep(Duration::from_secs(30));
        c.execute_batch("COMMIT").unwrap();
    });
    // While locked: on the repair list (the daemon's own view), status 1,
    // and the daemon still runs.
    d.wait("a store fault while locked", 25, || {
        open_store_fault(st.path()).is_some()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    let fault = open_store_fault(st.path()).unwrap();
    assert!(
        fault["advice"]
            .as_str()
            .unwrap()
            .contains("another program"),
        "{fault}"
    );
    assert!(d.child.as_mut().unwrap().try_wait().unwrap().is_none());
    // For the county's alerting too.
    let (_, metrics) = get(&format!("http://{addr}/metrics"), &[]);
    assert!(
        metrics.contains("cunxiang_open_outages{kind=\"store\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("cunxiang_records_held 0"), "{metrics}");
    locker.join().unwrap();
    // Nothing lost: the firing during the lock went on air on time and
    // its row reached the file once the lock was gone.
    wait_played(&d, "锁住时", 30);
    assert_on_time(st.path(), "锁住时");
    wait_played(&d, "解锁后", 40);
    assert_on_time(st.path(), "解锁后");
    let closed = closed_store_faults(st.path());
    assert_eq!(closed.len(), 1, "{closed:?}");
    // A lock is not a power cut: no other outage.
    let o = outages(st.path());
    assert!(o.iter().all(|o| o["kind"] == "store"), "{o:?}");
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
    let c = rusqlite::Connection::open(st.path().join("var/cunxiang.db")).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

// ---------------------------------------------------------------------
// Files changed under a running daemon: a schedule saved in pieces, and
// audio files deleted, replaced or truncated while they play.

#[test]
fn a_schedule_saved_in_pieces_goes_on_air_once_whole() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("var");
    let at = soon(6);
    let text = format!("[[broadcast]]\nname = \"分段保存\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\n");
    let path = st.path().join("schedules/a.toml");
    // Truncated, then written in three slow pieces, as some editors and
    // network copies do.
    std::fs::write(&path, "").unwrap();
    let b = text.as_bytes();
    for part in [&b[..10], &b[10..30], &b[30..]] {
        use std::io::Write;
        std::thread::sleep(Duration::from_millis(200));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(part).unwrap();
    }
    wait_played(&d, "分段保存", 20);
    assert!(
        outages(st.path()).iter().all(|o| o["open"] == false),
        "{:?}",
        outages(st.path())
    );
    assert!(d.stop(10).success());
}

#[test]
fn audio_files_deleted_replaced_or_truncated_while_they_play() {
    let st = TempStation::new();
    for f in ["删.wav", "换.wav", "截.wav", "下一个.wav"] {
        st.wav(f, if f == "下一个.wav" { 1.0 } else { 6.0 });
    }
    let (a, b, c, n) = (soon(4), soon(12), soon(20), soon(28));
    st.schedule(
        "a.toml",
        &format!(
            "[[broadcast]]\nname = \"删除\"\nplay = [\"删.wav\"]\nat = [\"{a}\"]\n\n\
             [[broadcast]]\nname = \"替换\"\nplay = [\"换.wav\"]\nat = [\"{b}\"]\n\n\
             [[broadcast]]\nname = \"截断\"\nplay = [\"截.wav\"]\nat = [\"{c}\"]\n\n\
             [[broadcast]]\nname = \"下一个\"\nplay = [\"下一个.wav\"]\nat = [\"{n}\"]\n"
        ),
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let playing = |name: &str| {
        plays(st.path())
            .iter()
            .any(|p| p["broadcast"] == name && p["status"] == "playing")
    };
    d.wait("删除 on air", 20, || playing("删除"));
    std::thread::sleep(Duration::from_secs(1));
    std::fs::remove_file(st.path().join("audio/删.wav")).unwrap();
    d.wait("替换 on air", 20, || playing("替换"));
    std::thread::sleep(Duration::from_secs(1));
    st.wav("换.wav", 2.0); // a new file renamed over the one on air
    d.wait("截断 on air", 20, || playing("截断"));
    std::thread::sleep(Duration::from_secs(1));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(st.path().join("audio/截.wav"))
        .unwrap();
    f.set_len(44 + 8000 * 2).unwrap(); // one second left
    wait_played(&d, "下一个", 30);
    let p = plays(st.path());
    let row = |name: &str| p.iter().find(|r| r["broadcast"] == name).unwrap().clone();
    // What was open when it started plays to the end (the OS keeps the
    // old file while it is read).
    assert_eq!(row("删除")["status"], "played", "{p:?}");
    assert_eq!(row("替换")["status"], "played", "{p:?}");
    // A file cut short under the player is not "played": partial, with
    // the reason, and a content outage.
    let cut = row("截断");
    assert_eq!(cut["status"], "partial", "{cut}");
    assert!(
        cut["reason"].as_str().unwrap().contains("ended after"),
        "{cut}"
    );
    let o = outages(st.path());
    assert!(
        o.iter()
            .any(|o| o["kind"] == "content" && o["subject"] == "截.wav"),
        "{o:?}"
    );
    // And the next broadcast is on air on time.
    assert_on_time(st.path(), "下一个");
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// Finding 4 through the binary: `plan` across a spring DST jump follows
// Debian cron's rules (the table tests live in the planner).

#[test]
fn plan_across_a_dst_jump_through_the_binary() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    st.write("cunxiang.toml", "timezone = \"Europe/Berlin\"\n");
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"一点一刻\"\nplay = [\"a.wav\"]\ncron = \"15 1 * * *\"\n\n\
         [[broadcast]]\nname = \"两点三点\"\nplay = [\"a.wav\"]\ncron = \"45 2,3 * * 0\"\n",
    );
    let plan = json(
        st.path(),
        &["plan", "--from", "2027-03-28", "--format", "json"],
    );
    let at = |name: &str| -> Vec<String> {
        plan.as_array()
            .unwrap()
            .iter()
            .filter(|f| f["broadcast"] == name)
            .map(|f| f["scheduled_at"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(at("一点一刻"), ["2027-03-28T01:15:00+01:00"], "{plan}");
    assert_eq!(
        at("两点三点"),
        ["2027-03-28T03:00:00+02:00", "2027-03-28T03:45:00+02:00"],
        "{plan}"
    );
}

#[test]
fn a_sound_device_failing_mid_play_and_coming_back() {
    let card = FifoCard::new();
    let st = TempStation::new();
    st.wav("长.wav", 10.0);
    st.wav("短.wav", 1.0);
    let first = soon(6);
    let next = soon(35);
    schedule_two(&st, ("断了", "长.wav", &first), ("恢复后", "短.wav", &next));
    let d = Daemon::on_card(st.path(), &card);
    d.wait("the first play to start", 20, || {
        plays(st.path()).iter().any(|p| p["status"] == "playing")
    });
    std::thread::sleep(Duration::from_secs(1));
    card.set_gone(true);
    d.wait("the failed play and the outage", 15, || {
        let p = plays(st.path());
        p.iter().any(|p| {
            p["broadcast"] == "断了"
                && p["status"] == "partial"
                && p["reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("device"))
        }) && open_outage(&outages(st.path()), "output", "rodio:default").is_some()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    card.set_gone(false);
    wait_played(&d, "恢复后", 45);
    assert_on_time(st.path(), "恢复后");
    assert!(outages(st.path()).iter().all(|o| o["open"] == false));
    assert_eq!(
        d.stderr().matches("sound device error").count(),
        1,
        "{}",
        d.stderr()
    );
    assert!(d.stop(10).success());
}

// ---------------------------------------------------------------------
// The database deleted under the running daemon: restored from the open
// handle within a heartbeat, with its whole history.

#[test]
fn the_database_deleted_while_running_is_restored() {
    // All three files (a person tidying the folder), or only the main file
    // (its write-ahead log and index stay, still the old file's).
    for files in [
        &["cunxiang.db", "cunxiang.db-wal", "cunxiang.db-shm"][..],
        &["cunxiang.db"][..],
    ] {
        let st = TempStation::new();
        st.wav("a.wav", 0.5);
        let (a, b) = (soon(4), soon(14));
        schedule_two(&st, ("删库前", "a.wav", &a), ("删库后", "a.wav", &b));
        let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
        wait_played(&d, "删库前", 20);
        for f in files {
            let _ = std::fs::remove_file(st.path().join("var").join(f));
        }
        d.wait("the database restored", 10, || {
            st.path().join("var/cunxiang.db").exists()
                && plays(st.path()).iter().any(|p| p["broadcast"] == "删库前")
        });
        // New records go to the restored file, next to the old ones.
        wait_played(&d, "删库后", 30);
        assert!(d
            .log_file("var")
            .contains("restored from the open database"));
        // A `store` fault in the ledger (item 11), already repaired.
        let closed = closed_store_faults(st.path());
        assert_eq!(closed.len(), 1, "{files:?} {closed:?}");
        assert!(closed[0]["detail"].as_str().unwrap().contains("deleted"));
        assert_eq!(cli(st.path(), &["status"]).0, 0, "{files:?}");
        assert!(d.stop(10).success());
        let c = rusqlite::Connection::open(st.path().join("var/cunxiang.db")).unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "{files:?}");
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM plays WHERE status = 'played'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2, "both plays kept after the stop: {files:?}");
        let clean: Option<String> = c
            .query_row("SELECT value FROM meta WHERE key = 'clean_stop'", [], |r| {
                r.get(0)
            })
            .ok();
        assert!(clean.is_some(), "the clean stop was recorded: {files:?}");
    }
}

// ---------------------------------------------------------------------
// The data folder's disk full, or its files made unchangeable (issue 18
// items 5 and 13). Playing does not need the store this second: the
// daemon keeps broadcasting on time, holds its records in memory, shows a
// `store` fault, and writes them once the disk is fixed — no restart, no
// power cut, nothing lost. The database stays intact.

/// A small tmpfs for the data folder, or `None` (with a message) where
/// this machine cannot mount.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: this machine cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn store_fault_case(data: &Path, break_it: impl FnOnce(), heal: impl FnOnce()) {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let data = data.to_path_buf();
    st.write(
        "cunxiang.toml",
        format!("[folders]\ndata = \"{}\"\n", data.display()),
    );
    let (a, b) = (soon(8), soon(30));
    schedule_two(&st, ("坏盘时", "a.wav", &a), ("修好后", "a.wav", &b));
    let mut d = Daemon::start(
        st.path(),
        &[
            "--output",
            "null",
            "--heartbeat",
            "1s",
            "--store-alarm",
            "3s",
        ],
    );
    d.wait("the daemon to run", 20, || {
        json(st.path(), &["status", "--json"])["live"] == true
    });
    break_it();
    // The firing on the broken disk: the daemon does not stop, and says
    // it holds the records — at once, and again past the alarm time.
    d.wait("a store fault", 20, || {
        open_store_fault(st.path()).is_some()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    d.wait("the loud line past the alarm", 20, || {
        d.stderr()
            .contains("records not yet written to the database")
    });
    assert!(
        d.stderr().contains("records are held in memory"),
        "{}",
        d.stderr()
    );
    assert!(
        d.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "{}",
        d.stderr()
    );
    heal();
    // Fixed: the rows held are written, the fault closes, no restart.
    wait_played(&d, "坏盘时", 40);
    assert_on_time(st.path(), "坏盘时");
    d.wait("the store fault closed", 20, || {
        closed_store_faults(st.path()).len() == 1
    });
    wait_played(&d, "修好后", 40);
    assert_on_time(st.path(), "修好后");
    let o = outages(st.path());
    assert!(
        o.iter().all(|o| o["kind"] == "store"),
        "no power cut: {o:?}"
    );
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
    let c = rusqlite::Connection::open(data.join("cunxiang.db")).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn the_data_folder_disk_full() {
    let Some(disk) = SmallDisk::mount("4m") else {
        return;
    };
    let filler = disk.path().join("filler");
    store_fault_case(
        &disk.path().join("var"),
        || {
            // Fill every byte that is left.
            let mut f = std::fs::File::create(&filler).unwrap();
            use std::io::Write;
            let block = vec![0u8; 64 * 1024];
            while f.write_all(&block).is_ok() {}
            let _ = f.sync_all();
        },
        || std::fs::remove_file(&filler).unwrap(),
    );
}

/// `chattr` on the data folder and every database file (`+i` makes them
/// immutable: every write fails, even through open handles, even for
/// root). The `-shm` index too: SQLite maps it into memory, where a write
/// to it would be a SIGBUS — the daemon looks before each use (item 13).
fn chattr(flag: &str, data: &Path) -> bool {
    let mut paths = vec![data.to_path_buf()];
    for f in ["cunxiang.db", "cunxiang.db-wal", "cunxiang.db-shm"] {
        if data.join(f).exists() {
            paths.push(data.join(f));
        }
    }
    paths.iter().all(|p| {
        Command::new("chattr")
            .arg(flag)
            .arg(p)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn the_data_folder_made_read_only() {
    let probe = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    if !chattr("+i", probe.path()) {
        eprintln!("SKIPPED: this file system cannot make files immutable (chattr +i)");
        return;
    }
    chattr("-i", probe.path());
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("var");
    let d2 = data.clone();
    store_fault_case(
        &data,
        || assert!(chattr("+i", &d2)),
        || assert!(chattr("-i", &data)),
    );
}

#[test]
fn a_sound_device_whose_open_never_returns() {
    // No reader on the card's FIFO: ALSA's open of the device blocks (as a
    // hung driver would) — the player thread is stuck, not failing.
    // Gone before its reader thread starts: a reader already blocked in
    // open() would meet the daemon's check and fail it (an I/O error, not a
    // hang).
    let card = FifoCard::new_gone();
    let st = TempStation::new();
    st.wav("短.wav", 1.0);
    // A long programme: a hung open must be found within seconds of its
    // start, not after the programme's whole length.
    st.wav("长.wav", 90.0);
    let (lost, next) = (soon(25), soon(60));
    schedule_two(
        &st,
        ("卡死时", "长.wav", &lost),
        ("恢复后", "短.wav", &next),
    );
    let d = Daemon::on_card(st.path(), &card);
    // The start-up check never answers: an output outage within seconds.
    d.wait("the output outage", 30, || {
        open_outage(&outages(st.path()), "output", "rodio:default")
            .is_some_and(|o| o["detail"].as_str().unwrap_or("").contains("stuck"))
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    // A firing while stuck is recorded failed, never left "playing".
    d.wait("the firing while stuck recorded", 40, || {
        plays(st.path())
            .iter()
            .any(|p| p["broadcast"] == "卡死时" && p["status"] == "failed")
    });
    // The card answers again: the next broadcast is on air on time.
    card.set_gone(false);
    wait_played(&d, "恢复后", 50);
    assert_on_time(st.path(), "恢复后");
    assert!(outages(st.path()).iter().all(|o| o["open"] == false));
    assert!(d.stop(10).success());
}

// =====================================================================
// In the field, part two.

// Item 16: a station folder that is not there is a usage error (exit 2)
// for every command, never "never ran, nothing to repair".
#[test]
fn a_station_folder_that_is_not_there_is_exit_2() {
    for station in ["/nonexistent/村", "/etc/passwd"] {
        for args in [
            &["status"][..],
            &["log"],
            &["outages", "--open"],
            &["report"],
            &["check"],
        ] {
            let out = cunxiang()
                .args(["--lang", "en", "--station", station])
                .args(args)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{station} {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("does not exist"), "{err}");
        }
    }
    // The same through the environment variable.
    let out = cunxiang()
        .env("CUNXIANG_STATION", "/nonexistent/村")
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// Item 20: a reader that stops early (`| head -1`) is a quiet end.
#[test]
fn a_closed_pipe_is_a_quiet_end() {
    let st = TempStation::new();
    {
        let s = cunxiang::store::Store::open(&st.path().join("var")).unwrap();
        let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
        for i in 0..5000 {
            s.insert_play(&cunxiang::store::NewPlay {
                broadcast: "一封信",
                scheduled_at: t0 + chrono::Duration::milliseconds(i),
                started_at: None,
                ended_at: None,
                status: cunxiang::store::Status::Missed,
                reason: Some("not_running"),
                trigger: cunxiang::store::Trigger::Schedule,
                priority: "normal",
                files: &[],
            })
            .unwrap();
        }
    }
    for format in ["csv", "json", "table"] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"))
            .arg("--station")
            .arg(st.path())
            .args(["log", "--since", "all", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("Broken pipe"), "{format}: {err}");
        assert_eq!(out.status.code(), Some(0), "{format}: {err}");
    }
}

// Item 8: SIGHUP (the terminal that started it closed, or `systemctl
// reload`) reloads the station; the daemon never dies of it.
#[test]
fn sighup_reloads_and_never_kills() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"旧\"\nplay = [\"a.wav\"]\nat = [\"07:00\"]\n",
    );
    // Not watching the files: only the signal can bring the edit in.
    let d = Daemon::start(st.path(), &["--output", "null", "--no-watch"]);
    d.address("var");
    let at = soon(6);
    st.schedule("a.toml", &one("新", "a.wav", &at));
    d.signal(nix::sys::signal::Signal::SIGHUP);
    wait_played(&d, "新", 20);
    assert_on_time(st.path(), "新");
    assert!(d.log_file("var").contains("SIGHUP"));
    assert!(d.stop(10).success(), "still running, stops cleanly");
}

// Item 7: a token in Chinese (README's example is one) works for the CLI
// and for a Bearer header in raw UTF-8.
#[test]
fn a_chinese_token_works() {
    let st = TempStation::new();
    st.write("cunxiang.toml", "[control]\ntoken = \"一串难猜的口令\"\n");
    st.wav("a.wav", 3.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"通知\"\nplay = [\"a.wav\"]\nat = [\"07:00\"]\n",
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    let (code, out) = cli(st.path(), &["--lang", "en", "play", "通知"]);
    assert_eq!(code, 0, "{out}");
    d.wait("the manual play", 10, || {
        plays(st.path()).iter().any(|p| p["broadcast"] == "通知")
    });
    let (code, out) = cli(st.path(), &["--lang", "en", "stop"]);
    assert_eq!(code, 0, "{out}");
    let raw = |token: &str| {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let mut req = format!("GET /api/status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer ").into_bytes();
        req.extend_from_slice(token.as_bytes());
        req.extend_from_slice(b"\r\n\r\n");
        s.write_all(&req).unwrap();
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        resp.lines().next().unwrap_or_default().to_string()
    };
    assert!(
        raw("一串难猜的口令").contains(" 200"),
        "{}",
        raw("一串难猜的口令")
    );
    assert!(raw("一串难猜的口").contains(" 401"));
    assert!(d.stop(10).success());
}

// Item 17: a line break in a broadcast name cannot forge a log record.
#[test]
fn a_line_break_in_a_name_stays_in_its_log_line() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let at = soon(4);
    st.schedule(
        "a.toml",
        &format!("[[broadcast]]\nname = \"晨间\\nERROR forged record\\r\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\n"),
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.wait("the play", 20, || {
        plays(st.path()).iter().any(|p| p["status"] == "played")
    });
    let (stderr, file) = (d.stderr(), d.log_file("var"));
    assert!(d.stop(10).success());
    for (sink, text) in [("stderr", stderr), ("log file", file)] {
        assert!(text.contains("forged record"), "{sink}: the name is logged");
        for line in text.lines() {
            assert!(
                !line.starts_with("ERROR forged"),
                "{sink}: a forged record: {text}"
            );
            assert!(!line.contains('\r'), "{sink}: {line:?}");
        }
    }
}

// Item 3: a file truncated and left empty across a firing (a save cut
// short) is not a good version: the previous one stays on air, and the
// repair list says so until the file is whole again.
#[test]
fn a_schedule_left_empty_across_a_firing_keeps_its_previous_version() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let at = soon(8);
    let text = format!("[[broadcast]]\nname = \"保持\"\nplay = [\"a.wav\"]\nat = [\"{at}\"]\n");
    st.schedule("a.toml", &text);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("var");
    std::fs::write(st.path().join("schedules/a.toml"), "").unwrap();
    d.wait("the suspect edit on the repair list", 10, || {
        open_outage(&outages(st.path()), "config", "schedules/a.toml").is_some()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    wait_played(&d, "保持", 20);
    assert_on_time(st.path(), "保持");
    st.schedule("a.toml", &text);
    d.wait("the outage closed", 10, || {
        outages(st.path()).iter().all(|o| o["open"] == false)
    });
    assert!(d.stop(10).success());
}

// Item 4: `rm -rf schedules` while running: the last good schedules stay
// on air, the repair list says so, and when the folder comes back it is
// watched again (edits in it go on air without a restart).
#[test]
fn the_schedules_folder_removed_and_restored_while_running() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let at = soon(10);
    st.schedule("a.toml", &one("留下", "a.wav", &at));
    let d = Daemon::start(st.path(), &["--output", "null"]);
    d.address("var");
    std::fs::remove_dir_all(st.path().join("schedules")).unwrap();
    d.wait("the missing folder on the repair list", 10, || {
        cli(st.path(), &["status"]).0 == 1
            && outages(st.path())
                .iter()
                .any(|o| o["kind"] == "config" && o["open"] == true)
    });
    wait_played(&d, "留下", 20);
    assert_on_time(st.path(), "留下");
    // The folder comes back with a new file: watched again.
    std::fs::create_dir(st.path().join("schedules")).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let at = soon(5);
    st.schedule("b.toml", &one("回来", "a.wav", &at));
    wait_played(&d, "回来", 20);
    assert_on_time(st.path(), "回来");
    d.wait("the outage closed", 10, || {
        outages(st.path()).iter().all(|o| o["open"] == false)
    });
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    assert!(d.stop(10).success());
}

// Item 1: hostile audio (Ogg Vorbis, an MP3 whose ID3 tag claims 256 MB,
// random bytes named .mp3): each plays or is logged failed, and the next
// broadcast is on air on time (the run loop never hangs on a probe).
#[test]
fn hostile_audio_files_never_stop_the_station() {
    let st = TempStation::new();
    let ok = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "1"])
        .arg(st.path().join("audio/vorbis.ogg"))
        .args(["synth", "1", "sine", "440"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "sox makes an Ogg Vorbis file");
    let mut id3 = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f".to_vec();
    id3.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    st.write("audio/id3.mp3", &id3);
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(1_103_515_245).wrapping_add(12345) >> 16) as u8)
        .collect();
    st.write("audio/noise.mp3", &noise);
    st.wav("a.wav", 0.5);
    let mut text = String::new();
    for (i, (name, file)) in [
        ("奥格", "vorbis.ogg"),
        ("标签", "id3.mp3"),
        ("噪声", "noise.mp3"),
    ]
    .iter()
    .enumerate()
    {
        let at = soon(6 + 3 * i as i64);
        text.push_str(&format!(
            "[[broadcast]]\nname = \"{name}\"\nplay = [\"{file}\"]\nat = [\"{at}\"]\n\n"
        ));
    }
    let after = soon(20);
    text.push_str(&one("之后", "a.wav", &after));
    st.schedule("a.toml", &text);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    wait_played(&d, "之后", 40);
    assert_on_time(st.path(), "之后");
    let rows = plays(st.path());
    for name in ["奥格", "标签", "噪声"] {
        let row = rows
            .iter()
            .find(|p| p["broadcast"] == name)
            .unwrap_or_else(|| panic!("{name} has a row: {rows:?}"));
        assert!(
            ["played", "failed"].contains(&row["status"].as_str().unwrap()),
            "{row}"
        );
    }
    assert!(d.stop(10).success(), "SIGTERM still stops it");
}

// Item 10: a zero-length file and a FIFO named as audio: failed, with no
// start time (nothing went out) and the right reason; a FIFO never blocks.
#[test]
fn an_empty_file_and_a_fifo_fail_with_the_right_reason_and_no_start() {
    let st = TempStation::new();
    st.write("audio/empty.mp3", b"");
    nix::unistd::mkfifo(
        &st.path().join("audio/pipe.mp3"),
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap();
    st.wav("a.wav", 0.5);
    let (a, b, c) = (soon(4), soon(6), soon(9));
    st.schedule(
        "a.toml",
        &format!(
            "[[broadcast]]\nname = \"空\"\nplay = [\"empty.mp3\"]\nat = [\"{a}\"]\n\n\
             [[broadcast]]\nname = \"管\"\nplay = [\"pipe.mp3\"]\nat = [\"{b}\"]\n\n\
             [[broadcast]]\nname = \"之后\"\nplay = [\"a.wav\"]\nat = [\"{c}\"]\n"
        ),
    );
    let d = Daemon::start(st.path(), &["--lang", "en", "--output", "null"]);
    wait_played(&d, "之后", 20);
    assert_on_time(st.path(), "之后");
    let rows = plays(st.path());
    let row = |name: &str| {
        rows.iter()
            .find(|p| p["broadcast"] == name)
            .unwrap()
            .clone()
    };
    for (name, why) in [("空", "empty"), ("管", "not a regular file")] {
        let r = row(name);
        assert_eq!(r["status"], "failed", "{r}");
        assert!(r["started_at"].is_null(), "nothing went out: {r}");
        assert!(r["reason"].as_str().unwrap().contains(why), "{r}");
    }
    assert!(d.stop(10).success());
}

// Item 6: 1,100 idle TCP connections against a daemon allowed 1,024 open
// files: connections are capped well below that (the rest wait in the
// kernel's queue), so a play never fails for want of a file, and idle
// connections are closed, so the dashboard answers again.
#[test]
fn idle_connections_never_take_the_files_a_play_needs() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    // This test process needs the sockets itself.
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let _ = setrlimit(Resource::RLIMIT_NOFILE, hard.min(8192), hard);
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let at = soon(12);
    st.schedule("a.toml", &one("满", "a.wav", &at));
    // The daemon as systemd's default would hold it: 1,024 open files.
    let bin = assert_cmd::cargo::cargo_bin("cunxiang");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" \"$@\"")
        .arg(&bin)
        .arg("--station")
        .arg(st.path())
        .args(["run", "--listen", "127.0.0.1:0", "--output", "null"])
        .env_remove("CUNXIANG_STATION")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Daemon {
        child: None,
        station: st.path().to_path_buf(),
    };
    let addr = d.address("var");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let held: Vec<tokio::net::TcpStream> = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..1100 {
            let addr = addr.clone();
            set.spawn(async move {
                tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
                    .await
                    .ok()
                    .and_then(Result::ok)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(Some(s)) = r {
                out.push(s);
            }
        }
        out
    });
    assert!(held.len() > 300, "connections held: {}", held.len());
    // Sockets take at most the cap, far from the 1,024 files allowed.
    std::thread::sleep(Duration::from_secs(1));
    let fds = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
        .unwrap()
        .count();
    assert!(fds < 400, "{fds} files open in the daemon");
    d.wait("the play", 30, || {
        plays(st.path())
            .iter()
            .any(|p| p["broadcast"] == "满" && p["status"] != "playing")
    });
    let row = plays(st.path())
        .into_iter()
        .find(|p| p["broadcast"] == "满")
        .unwrap();
    assert_eq!(row["status"], "played", "{row}");
    // Idle ones are closed: the dashboard answers while they are still held.
    d.wait("the dashboard", 60, || {
        get(&format!("http://{addr}/"), &[]).0 == 200
    });
    drop(held);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
}

// Item 21: wrong tokens are limited per client address, not per request:
// of 200 guesses sent at once, only a few are even looked at (the rest get
// 429 unread); the right token still works a moment later.
#[test]
fn token_guesses_are_limited_per_address() {
    let st = TempStation::new();
    st.write("cunxiang.toml", "[control]\ntoken = \"s3cret-口令\"\n");
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    let guesses: Vec<_> = (0..200)
        .map(|i| {
            let url = format!("http://{addr}/api/status");
            std::thread::spawn(move || {
                get(&url, &[("Authorization", &format!("Bearer guess{i}"))]).0
            })
        })
        .collect();
    let codes: Vec<u16> = guesses.into_iter().map(|h| h.join().unwrap()).collect();
    let looked_at = codes.iter().filter(|c| **c == 401).count();
    let refused = codes.iter().filter(|c| **c == 429).count();
    assert_eq!(looked_at + refused, 200, "{codes:?}");
    assert!(looked_at <= 20, "{looked_at} of 200 guesses were tried");
    std::thread::sleep(Duration::from_secs(2));
    let (code, _) = get(
        &format!("http://{addr}/api/status"),
        &[("Authorization", "Bearer s3cret-%E5%8F%A3%E4%BB%A4")],
    );
    assert_eq!(code, 200);
    assert!(d.stop(10).success());
}

// Item 9: files whose length lies: one cut short (5.5 s left of a 30.7 s
// file) and a WAV whose header claims 10 hours over 1 s of data. Both are
// `partial`, saying how much went out; neither is `played`.
#[test]
fn files_that_end_before_their_header_says_are_partial() {
    let st = TempStation::new();
    let mut cut = common::wav_bytes(8000, 30.7);
    cut.truncate(44 + 8000 * 2 * 55 / 10);
    st.write("audio/cut.wav", &cut);
    let mut liar = common::wav_bytes(8000, 1.0);
    let claim: u32 = 8000 * 2 * 36_000;
    liar[4..8].copy_from_slice(&(36 + claim).to_le_bytes());
    liar[40..44].copy_from_slice(&claim.to_le_bytes());
    st.write("audio/liar.wav", &liar);
    let (a, b) = (soon(4), soon(14));
    schedule_two(&st, ("截短", "cut.wav", &a), ("谎报", "liar.wav", &b));
    let d = Daemon::start(st.path(), &["--output", "capture:capture.jsonl"]);
    d.wait("both ended", 40, || {
        let p = plays(st.path());
        ["截短", "谎报"].iter().all(|n| {
            p.iter()
                .any(|r| r["broadcast"] == *n && r["status"] != "playing")
        })
    });
    for (name, went_out) in [("截短", "5.5"), ("谎报", "1.0")] {
        let row = plays(st.path())
            .into_iter()
            .find(|p| p["broadcast"] == name)
            .unwrap();
        assert_eq!(row["status"], "partial", "{row}");
        let reason = row["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains(&format!("ended after {went_out} s")),
            "{row}"
        );
    }
    assert!(d.stop(10).success());
}

// Item 12: the database overwritten with garbage. Readers say "damaged"
// and what to do (exit 1); the daemon keeps broadcasting on a new
// database beside the damaged one, which is kept (never deleted) and
// stays on the repair list until a person takes it away.
#[test]
fn a_damaged_database_is_kept_and_a_new_one_started() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let (a, b) = (soon(12), soon(40));
    schedule_two(&st, ("坏库后", "a.wav", &a), ("写坏后", "a.wav", &b));
    let var = st.path().join("var");
    std::fs::create_dir_all(&var).unwrap();
    let garbage = vec![0x5au8; 64 * 1024];
    std::fs::write(var.join("cunxiang.db"), &garbage).unwrap();
    // Not running: status and log say damaged, exit 1.
    let (code, out) = cli(st.path(), &["--lang", "en", "status"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("damaged") && !out.contains("never run"),
        "{out}"
    );
    let out = cunxiang()
        .args(["--lang", "en", "--station"])
        .arg(st.path())
        .arg("log")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("damaged") && err.contains("cunxiang run"),
        "{err}"
    );
    // Running: on air on a new database, the damaged one kept.
    let d = Daemon::start(st.path(), &["--output", "null", "--heartbeat", "1s"]);
    wait_played(&d, "坏库后", 30);
    assert_on_time(st.path(), "坏库后");
    let kept = |n: usize| {
        let v: Vec<PathBuf> = std::fs::read_dir(&var)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with("cunxiang.db.damaged-")
                    && !n.ends_with("-wal")
                    && !n.ends_with("-shm")
            })
            .collect();
        assert_eq!(v.len(), n, "{v:?}");
        v
    };
    let first = kept(1).remove(0);
    assert_eq!(std::fs::read(&first).unwrap(), garbage);
    let fault = open_store_fault(st.path()).expect("a store fault for the kept file");
    assert!(
        fault["detail"].as_str().unwrap().contains("kept as"),
        "{fault}"
    );
    assert_eq!(cli(st.path(), &["status"]).0, 1);
    // Taken away by a person: repaired.
    std::fs::rename(&first, st.path().join("inspect.db")).unwrap();
    d.wait("the fault closed", 15, || {
        open_store_fault(st.path()).is_none()
    });
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    // Written over while running: noticed, set aside, on air on a new
    // one with the history the daemon held.
    std::fs::write(var.join("cunxiang.db"), &garbage).unwrap();
    d.wait("the second file set aside", 20, || {
        open_store_fault(st.path()).is_some() && cli(st.path(), &["log"]).0 == 0
    });
    kept(1);
    wait_played(&d, "写坏后", 40);
    assert_on_time(st.path(), "写坏后");
    assert!(d.stop(10).success());
    let c = rusqlite::Connection::open(var.join("cunxiang.db")).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

// Item 2: reading the schedule files (an editor opening them, `cat`,
// `status`, `check`, an open dashboard) never reloads; a write does, once.
#[test]
fn reading_the_schedules_never_reloads_and_a_write_reloads_once() {
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let later = soon(3600);
    st.schedule("a.toml", &one("读一读", "a.wav", &later));
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    let loads = || d.stderr().matches("schedules loaded").count();
    d.wait("the first load", 10, || loads() == 1);
    let file = st.path().join("schedules/a.toml");
    for _ in 0..20 {
        let _ = std::fs::read_to_string(&file).unwrap();
        let _ = std::fs::metadata(&file).unwrap();
    }
    assert_eq!(cli(st.path(), &["status"]).0, 0);
    let _ = cli(st.path(), &["check"]);
    let _ = get(&format!("http://{addr}/"), &[]);
    let _ = get(&format!("http://{addr}/api/status"), &[]);
    // Well past the watcher's quiet time (0.5 s): still the one load.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(loads(), 1, "{}", d.stderr());
    // A write is a change: one reload.
    st.schedule("a.toml", &one("写一写", "a.wav", &later));
    d.wait("the reload", 10, || loads() == 2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(loads(), 2, "{}", d.stderr());
    assert!(d.stop(10).success());
}

// Found by the "what held" sweep: a scheduled firing waiting behind a
// play was missing from `queued` (status, dashboard) until the play ended.
#[test]
fn a_firing_waiting_behind_a_play_is_shown_queued() {
    let st = TempStation::new();
    st.wav("long.wav", 6.0);
    st.wav("a.wav", 0.5);
    let (first, second) = (soon(5), soon(7));
    schedule_two(
        &st,
        ("长的", "long.wav", &first),
        ("等着的", "a.wav", &second),
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let addr = d.address("var");
    d.wait("the second firing shown waiting", 20, || {
        let (_, body) = get(&format!("http://{addr}/api/status"), &[]);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["now_playing"]["broadcast"] == "长的"
            && v["queued"]
                .as_array()
                .is_some_and(|q| q.iter().any(|f| f["broadcast"] == "等着的"))
    });
    wait_played(&d, "等着的", 20);
    assert!(d.stop(10).success());
}

// Stopped while the records still wait (the disk still full): the stop
// tries a few seconds more, then leaves them in a file a person can read
// (beside the database, else in the temporary folder) and says so.
#[test]
fn stopped_while_records_are_held_leaves_them_in_a_file() {
    let Some(disk) = SmallDisk::mount("4m") else {
        return;
    };
    let st = TempStation::new();
    st.wav("a.wav", 0.5);
    let data = disk.path().join("var");
    st.write(
        "cunxiang.toml",
        format!("[folders]\ndata = \"{}\"\n", data.display()),
    );
    st.schedule("a.toml", &one("满盘时", "a.wav", &soon(8)));
    let tmp = tempfile::tempdir().unwrap();
    let tmp_s = tmp.path().to_str().unwrap().to_string();
    let d = Daemon::start_env(
        st.path(),
        &["--output", "null", "--heartbeat", "1s"],
        &[("TMPDIR", &tmp_s)],
        &[],
    );
    d.wait("the daemon to run", 20, || {
        json(st.path(), &["status", "--json"])["live"] == true
    });
    let mut f = std::fs::File::create(disk.path().join("filler")).unwrap();
    use std::io::Write;
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    d.wait("the firing played, held", 30, || {
        open_store_fault(st.path()).is_some() && d.stderr().contains("played broadcast=满盘时")
    });
    let err = {
        let stderr = d.stderr();
        assert!(d.stop(20).success(), "{stderr}");
        std::fs::read_to_string(st.path().join("stderr.txt")).unwrap()
    };
    assert!(
        err.contains("stopping with records the database never took"),
        "{err}"
    );
    let saved: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("cunxiang.db.held-"))
        .collect();
    assert_eq!(saved.len(), 1, "{err}");
    let c = rusqlite::Connection::open(&saved[0]).unwrap();
    let status: String = c
        .query_row(
            "SELECT status FROM plays WHERE broadcast = '满盘时'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "played");
}

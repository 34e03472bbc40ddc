//! Driving the real `cunxiang` binary in real time: spawning `run` with
//! production logging to `daemon.log`, polling its as-run log and ledger
//! through the CLI with deadlines, signals.

use super::cunxiang;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A local time `secs` from now in the station's zone (Asia/Shanghai).
pub fn soon(secs: i64) -> (DateTime<Utc>, String) {
    let t = Utc::now() + chrono::Duration::seconds(secs);
    let t = t - chrono::Duration::nanoseconds(t.timestamp_subsec_nanos() as i64);
    (
        t,
        t.with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%H:%M:%S")
            .to_string(),
    )
}

pub fn spawn(station: &Path, output: &str, env: &[(&str, &str)], unset: &[&str]) -> Child {
    spawn_with(station, output, env, unset, false)
}

pub fn spawn_with(
    station: &Path,
    output: &str,
    env: &[(&str, &str)],
    unset: &[&str],
    watch: bool,
) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"));
    c.arg("--station")
        .arg(station)
        .args(["run", "--listen", "127.0.0.1:0"]);
    if !watch {
        c.arg("--no-watch");
    }
    c.args(["--output", output])
        .env("LANG", "C.UTF-8")
        .env("RUST_LOG", "info");
    for (k, v) in env {
        c.env(k, v);
    }
    for k in unset {
        c.env_remove(k);
    }
    let log = std::fs::File::create(station.join("daemon.log")).unwrap();
    c.stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start cunxiang run")
}

pub fn log_json(station: &Path) -> Vec<serde_json::Value> {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(["log", "--since", "all", "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

pub fn poll(
    what: &str,
    secs: u64,
    station: &Path,
    mut cond: impl FnMut(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let rows = log_json(station);
        if cond(&rows) {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log: {rows:?}\ndaemon: {}",
            std::fs::read_to_string(station.join("daemon.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn signal(child: &Child, sig: &str) {
    use nix::sys::signal::{kill, Signal};
    let s = match sig {
        "TERM" => Signal::SIGTERM,
        "KILL" => Signal::SIGKILL,
        other => panic!("signal {other}"),
    };
    kill(nix::unistd::Pid::from_raw(child.id() as i32), s).expect("kill");
}

pub fn wait_exit(mut child: Child, secs: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("daemon did not exit in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn instant(v: &serde_json::Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

pub fn status_code(station: &Path) -> (i32, String) {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(["--lang", "en", "status"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

pub fn outages_json(station: &Path) -> Vec<serde_json::Value> {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(["outages", "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A `HOME` whose ALSA "line-in" can be fed from a file: `tone.raw`
/// (30 s of a 440 Hz tone as 32-bit floats: not silence in whatever
/// sample format cpal picks) and `zero.raw` (30 s of zeros: silence in
/// any signed format); [`line_in_from`] picks one.
pub fn line_in_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let tone: Vec<u8> = (0..48_000 * 30)
        .flat_map(|i| {
            (0.25 * (i as f32 * 440.0 * 2.0 * std::f32::consts::PI / 48_000.0).sin()).to_le_bytes()
        })
        .collect();
    std::fs::write(home.path().join("tone.raw"), tone).unwrap();
    std::fs::write(home.path().join("zero.raw"), vec![0u8; 48_000 * 4 * 30]).unwrap();
    home
}

/// Makes `home`'s default capture device an ALSA `type file` device
/// reading `infile` (playback goes to `null`).
pub fn line_in_from(home: &Path, infile: &str) {
    std::fs::write(
        home.join(".asoundrc"),
        format!(
            "pcm.!default {{\n  type asym\n  playback.pcm \"null\"\n  capture.pcm \"linein\"\n}}\n\
             pcm.linein {{\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n  infile \"{}\"\n  format \"raw\"\n}}\n",
            home.join(infile).display()
        ),
    )
    .unwrap();
}

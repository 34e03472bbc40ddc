//! Helpers shared by the integration tests: temporary station folders with
//! generated audio, and running the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

#[cfg(target_os = "linux")]
pub mod binary;

/// A station folder in a temp dir that is removed when dropped.
pub struct TempStation {
    pub dir: tempfile::TempDir,
}

impl TempStation {
    /// An empty station with `audio/` and `schedules/` folders.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("audio")).unwrap();
        std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
        TempStation { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the station folder (parents created), atomically
    /// (temp file + rename, as editors do) so a reload never reads it half
    /// written.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let tmp = p.with_extension("tmp-write");
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        p
    }

    /// Writes a schedule file `schedules/NAME`.
    pub fn schedule(&self, name: &str, text: &str) -> PathBuf {
        self.write(&format!("schedules/{name}"), text)
    }

    /// Writes a real WAV of `secs` seconds under `audio/`.
    pub fn wav(&self, rel: &str, secs: f32) -> PathBuf {
        self.write(&format!("audio/{rel}"), wav_bytes(8000, secs))
    }
}

/// A mono 16-bit PCM WAV holding a quiet 440 Hz tone.
pub fn wav_bytes(rate: u32, secs: f32) -> Vec<u8> {
    let frames = (rate as f32 * secs) as u32;
    let data_len = frames * 2;
    let mut v = Vec::with_capacity(44 + data_len as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 2).to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s =
            ((i as f32 * 440.0 * 2.0 * std::f32::consts::PI / rate as f32).sin() * 8000.0) as i16;
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}

/// The repository's own sample station.
pub fn sample_station() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real `cunxiang` binary, with a neutral environment (no locale, no
/// station variable) so tests choose the language explicitly.
pub fn cunxiang() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("cunxiang").expect("binary");
    c.env_remove("CUNXIANG_STATION")
        .env_remove("CUNXIANG_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8");
    c
}

use chrono::{DateTime, Utc};
use cunxiang::clock::{Clock, TestClock};
use cunxiang::daemon::{self, Control, RunConfig};
use cunxiang::sound::output::{CaptureOutput, CaptureRecord};
use cunxiang::store::{PlayFilter, PlayRow, Store};
use std::sync::Arc;
use std::time::Duration;

/// Shanghai local "YYYY-MM-DD HH:MM:SS" as an instant.
pub fn sh(s: &str) -> DateTime<Utc> {
    let n = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    cunxiang::plan::local_instant(chrono_tz::Asia::Shanghai, n).unwrap()
}

/// A daemon running on a test clock with a capture output.
pub struct Running {
    pub clock: TestClock,
    pub capture: PathBuf,
    pub data: PathBuf,
    pub control: tokio::sync::mpsc::Sender<Control>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), daemon::RunError>>>,
}

impl Running {
    /// Starts the daemon on `station` with the clock at `start`, and waits
    /// until it has written its first heartbeat.
    pub async fn start(station: &Path, clock: TestClock) -> Running {
        let c: Arc<dyn Clock> = Arc::new(clock.clone());
        let out = Box::new(CaptureOutput::new(
            c.clone(),
            &station.join("capture.jsonl"),
        ));
        Running::start_with(station, clock, out).await
    }

    /// Starts the daemon with a given output.
    pub async fn start_with(
        station: &Path,
        clock: TestClock,
        out: Box<dyn cunxiang::sound::output::Output>,
    ) -> Running {
        Running::start_full(station, clock, out, None, None, None).await
    }

    /// Starts the daemon with a given output and a factory for the fresh
    /// output a new player thread gets when the old one is stuck.
    pub async fn start_factory(
        station: &Path,
        clock: TestClock,
        out: Box<dyn cunxiang::sound::output::Output>,
        factory: daemon::OutputFactory,
    ) -> Running {
        Running::start_cfg(station, clock, out, None, None, None, Some(factory)).await
    }

    /// Starts the daemon with a capture output and a test monitor (a
    /// switch between a −20 dBFS tone and silence; threshold −45 dBFS).
    pub async fn start_monitored(
        station: &Path,
        clock: TestClock,
        monitor: &cunxiang::sound::monitor::TestSource,
        silence_after: Duration,
    ) -> Running {
        let c: Arc<dyn Clock> = Arc::new(clock.clone());
        let out = Box::new(CaptureOutput::new(
            c.clone(),
            &station.join("capture.jsonl"),
        ));
        let src = monitor.clone();
        let handle = cunxiang::sound::monitor::MonitorHandle::spawn(
            "test-monitor".into(),
            -45.0,
            silence_after,
            c,
            Box::new(move || {
                Ok(Box::new(src.clone()) as Box<dyn cunxiang::sound::monitor::MonitorSource>)
            }),
        );
        Running::start_full(station, clock, out, None, None, Some(handle)).await
    }

    /// Starts the daemon with a capture output and its HTTP face on `bind`
    /// (`127.0.0.1:0`); returns it and the base URL (`http://127.0.0.1:PORT`).
    pub async fn start_api(
        station: &Path,
        clock: TestClock,
        bind: &str,
        token: Option<&str>,
    ) -> (Running, String) {
        let c: Arc<dyn Clock> = Arc::new(clock.clone());
        let out = Box::new(CaptureOutput::new(c, &station.join("capture.jsonl")));
        let l = std::net::TcpListener::bind(bind).expect("bind");
        let port = l.local_addr().unwrap().port();
        let r = Running::start_full(
            station,
            clock,
            out,
            Some(l),
            token.map(str::to_string),
            None,
        )
        .await;
        (r, format!("http://127.0.0.1:{port}"))
    }

    async fn start_full(
        station: &Path,
        clock: TestClock,
        out: Box<dyn cunxiang::sound::output::Output>,
        listener: Option<std::net::TcpListener>,
        token: Option<String>,
        monitor: Option<cunxiang::sound::monitor::MonitorHandle>,
    ) -> Running {
        Running::start_cfg(station, clock, out, listener, token, monitor, None).await
    }

    async fn start_cfg(
        station: &Path,
        clock: TestClock,
        out: Box<dyn cunxiang::sound::output::Output>,
        listener: Option<std::net::TcpListener>,
        token: Option<String>,
        monitor: Option<cunxiang::sound::monitor::MonitorHandle>,
        factory: Option<daemon::OutputFactory>,
    ) -> Running {
        let capture = station.join("capture.jsonl");
        let data = station.join("var");
        let (ctl_tx, ctl_rx) = tokio::sync::mpsc::channel(8);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut cfg = RunConfig::new(station);
        cfg.watch = false;
        let read_token = cunxiang::config::load::Station::load(station)
            .config
            .read_token;
        cfg.face = listener.map(|l| cunxiang::web::http::face(l, token, read_token));
        cfg.monitor = monitor;
        cfg.output_factory = factory;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        cfg.ready = Some(ready_tx);
        let c: Arc<dyn Clock> = Arc::new(clock.clone());
        let handle = tokio::spawn(daemon::run(cfg, c, out, Some(ctl_rx), async move {
            let _ = stop_rx.await;
        }));
        let r = Running {
            clock,
            capture,
            data,
            control: ctl_tx,
            stop: Some(stop_tx),
            handle: Some(handle),
        };
        match tokio::time::timeout(Duration::from_secs(20), ready_rx).await {
            Ok(Ok(())) => {}
            _ => {
                let res = r.handle.unwrap().await;
                panic!("daemon did not start: {res:?}");
            }
        }
        r
    }

    /// Moves time forward in small steps, letting the daemon and the player
    /// thread react between steps.
    pub async fn run_for(&self, total: Duration) {
        let step = Duration::from_millis(100);
        let mut done = Duration::ZERO;
        while done < total {
            self.clock.advance(step);
            done += step;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }

    /// Waits (up to 20 s real time) for `cond`, moving the test clock on
    /// by 100 ms every 10 ms meanwhile, so a play the daemon started late
    /// on a loaded machine still gets the virtual time it needs to finish.
    pub async fn wait(&self, what: &str, cond: impl FnMut() -> bool) {
        self.wait_moving(what, Duration::from_millis(100), cond)
            .await
    }

    /// [`Running::wait`] with the test clock standing still: for what the
    /// daemon does at once (a reload), whose instant the test then checks
    /// exactly.
    pub async fn wait_still(&self, what: &str, cond: impl FnMut() -> bool) {
        self.wait_moving(what, Duration::ZERO, cond).await
    }

    async fn wait_moving(&self, what: &str, step: Duration, mut cond: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !cond() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.clock.advance(step);
        }
    }

    pub fn plays(&self) -> Vec<PlayRow> {
        Store::open_existing(&self.data)
            .map(|s| s.plays(&PlayFilter::default()).unwrap())
            .unwrap_or_default()
    }

    pub fn captured(&self) -> Vec<CaptureRecord> {
        std::fs::read_to_string(&self.capture)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The daemon dies without a clean stop (as in a power cut).
    pub async fn crash(mut self) {
        let h = self.handle.take().unwrap();
        h.abort();
        let _ = h.await;
    }

    pub fn outages(&self) -> Vec<cunxiang::store::OutageRow> {
        Store::open_existing(&self.data)
            .map(|s| s.outages(false, None).unwrap())
            .unwrap_or_default()
    }

    /// Stops the daemon cleanly and waits for it.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let h = self.handle.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("stops in time")
            .unwrap()
            .unwrap();
    }
}

/// Polls `cond` every 10 ms for up to 10 s (real time).
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// What an HTTP request sends.
pub enum Body {
    None,
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
}

/// An HTTP answer: status, headers (lower-case names), body.
pub struct Answer {
    pub status: u16,
    pub headers: std::collections::HashMap<String, String>,
    pub text: String,
}

/// One HTTP request with the blocking client on the blocking pool;
/// redirects are not followed.
pub async fn request(method: &str, url: &str, body: Body, headers: &[(&str, &str)]) -> Answer {
    let (method, url) = (method.to_string(), url.to_string());
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        let mut resp = if method == "GET" {
            let mut r = agent.get(&url);
            for (k, v) in &headers {
                r = r.header(k, v);
            }
            r.call()
        } else {
            let mut r = agent.post(&url);
            for (k, v) in &headers {
                r = r.header(k, v);
            }
            match body {
                Body::None => r.send_empty(),
                Body::Json(b) => r.send_json(b),
                Body::Form(f) => r.send_form(f.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            }
        }
        .expect("request");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        Answer {
            status,
            headers,
            text,
        }
    })
    .await
    .unwrap()
}

/// A GET or a POST with an optional JSON body: status and body text.
pub async fn http(
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let b = body.map_or(Body::None, Body::Json);
    let a = request(method, url, b, headers).await;
    (a.status, a.text)
}
/// An HTTP request whose answer is JSON.
pub async fn http_json(
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let (s, t) = http(method, url, body, headers).await;
    let v = serde_json::from_str(&t).unwrap_or_else(|e| panic!("not JSON ({e}): {t}"));
    (s, v)
}

/// A real-time-paced "sound card" for the real rodio path: ALSA's `type
/// file` plugin writing into a FIFO that a thread drains at (at most) the
/// audio byte rate (48 kHz stereo f32), in a temporary `HOME/.asoundrc`
/// (run the daemon with that HOME and without XDG_RUNTIME_DIR and
/// PULSE_SERVER). It counts the bytes and the non-zero bytes it got, and
/// can stall (stop reading) or die (close the FIFO) on demand.
#[cfg(target_os = "linux")]
pub struct FifoCard {
    pub home: tempfile::TempDir,
    hold: std::sync::Arc<std::sync::atomic::AtomicBool>,
    gone: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Non-zero bytes: something other than silence came through.
    pub loud: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[cfg(target_os = "linux")]
impl FifoCard {
    pub fn new() -> FifoCard {
        FifoCard::starting(false)
    }

    /// A card whose reader is gone from the start (a hung driver): set
    /// before the reader thread runs, so it never opens the FIFO first.
    pub fn new_gone() -> FifoCard {
        FifoCard::starting(true)
    }

    fn starting(gone_at_start: bool) -> FifoCard {
        use std::io::Read;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::time::{Duration, Instant};
        let home = tempfile::tempdir().unwrap();
        let fifo = home.path().join("card.fifo");
        nix::unistd::mkfifo(
            &fifo,
            nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        )
        .expect("mkfifo");
        std::fs::write(
            home.path().join(".asoundrc"),
            format!("pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"raw\"\n}}\n", fifo.display()),
        )
        .unwrap();
        let hold = std::sync::Arc::new(AtomicBool::new(false));
        let gone = std::sync::Arc::new(AtomicBool::new(gone_at_start));
        let bytes = std::sync::Arc::new(AtomicU64::new(0));
        let loud = std::sync::Arc::new(AtomicU64::new(0));
        let (h, g, b, l) = (hold.clone(), gone.clone(), bytes.clone(), loud.clone());
        std::thread::spawn(move || loop {
            while g.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            // Reopen after each writer closes (the daemon opens the device
            // for its check, then for each play).
            let Ok(mut f) = std::fs::File::open(&fifo) else {
                return;
            };
            let start = Instant::now();
            let mut total = 0u64;
            let mut buf = vec![0u8; 8192];
            loop {
                if g.load(Ordering::SeqCst) {
                    break; // the reader dies: the writer's next write fails
                }
                if h.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                match f.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        total += n as u64;
                        b.fetch_add(n as u64, Ordering::SeqCst);
                        let nz = buf[..n].iter().filter(|x| **x != 0).count() as u64;
                        l.fetch_add(nz, Ordering::SeqCst);
                        let due = Duration::from_secs_f64(total as f64 / (48_000.0 * 2.0 * 4.0));
                        if let Some(wait) = due.checked_sub(start.elapsed()) {
                            std::thread::sleep(wait);
                        }
                    }
                }
            }
        });
        FifoCard {
            home,
            hold,
            gone,
            bytes,
            loud,
        }
    }

    /// Closes the card's reader (as a card that dies) until `false`.
    pub fn set_gone(&self, on: bool) {
        self.gone.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn set_hold(&self, on: bool) {
        self.hold.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------
// The real binary as a village runs it.

use std::io::Read as _;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The running binary. Its stderr is a pipe drained by a thread into
/// `stderr.txt` (as the journal would drain it); its log file is where
/// production puts it (the data folder's `logs/`).
pub struct Daemon {
    pub child: Option<Child>,
    pub station: PathBuf,
}

impl Daemon {
    pub fn start(station: &Path, args: &[&str]) -> Daemon {
        Daemon::start_env(station, args, &[], &[])
    }

    pub fn start_env(
        station: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        unset: &[&str],
    ) -> Daemon {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"));
        c.arg("--station")
            .arg(station)
            .args(["run", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("LANG", "C.UTF-8")
            .env_remove("RUST_LOG")
            .env_remove("CUNXIANG_STATION");
        for (k, v) in env {
            c.env(k, v);
        }
        for k in unset {
            c.env_remove(k);
        }
        let mut child = c
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cunxiang run");
        let mut pipe = child.stderr.take().unwrap();
        let path = station.join("stderr.txt");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                use std::io::Write;
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                {
                    let _ = f.write_all(&buf[..n]);
                }
            }
        });
        Daemon {
            child: Some(child),
            station: station.to_path_buf(),
        }
    }

    /// The daemon on the real rodio path, with `card` as its sound card.
    pub fn on_card(station: &Path, card: &FifoCard) -> Daemon {
        let home = card.home.path().to_str().unwrap().to_string();
        Daemon::start_env(
            station,
            &["--output", "rodio"],
            &[("HOME", &home)],
            &["XDG_RUNTIME_DIR", "PULSE_SERVER"],
        )
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).expect("kill");
    }

    /// SIGTERM and the exit status (within `secs`).
    pub fn stop(mut self, secs: u64) -> std::process::ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                self.child = Some(child);
                let stacks = self.stacks();
                if let Some(c) = self.child.as_mut() {
                    let _ = c.kill();
                }
                panic!(
                    "daemon did not stop within {secs} s after SIGTERM\n{}\nstacks:\n{stacks}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.station.join("stderr.txt")).unwrap_or_default()
    }

    /// Every log file's text under `data/logs/`.
    pub fn log_file(&self, data: &str) -> String {
        let mut s = String::new();
        if let Ok(rd) = std::fs::read_dir(self.station.join(data).join("logs")) {
            for e in rd.flatten() {
                s.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        s
    }

    /// Polls `cond` every 100 ms until it holds or `secs` pass. On a
    /// timeout the panic carries the daemon's stderr and, where gdb is
    /// installed, every thread's stack (a stuck thread shows at once).
    pub fn wait(&self, what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond() {
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {secs} s waiting for {what}\nstderr:\n{}\nstacks:\n{}",
                    self.stderr(),
                    self.stacks()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every thread's stack of the running daemon (`gdb -batch`), or why
    /// not.
    pub fn stacks(&self) -> String {
        let Some(c) = &self.child else {
            return "(not running)".into();
        };
        match std::process::Command::new("gdb")
            .args([
                "-p",
                &c.id().to_string(),
                "-batch",
                "-ex",
                "thread apply all bt",
            ])
            .output()
        {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("(no gdb: {e})"),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Daemon {
    /// The daemon's dashboard address, once it listens (read from the
    /// store in the data folder `data`, relative to the station).
    pub fn address(&self, data: &str) -> String {
        let mut addr = String::new();
        self.wait("the daemon to listen", 20, || {
            if let Some(a) = cunxiang::store::Store::open_existing(&self.station.join(data))
                .ok()
                .and_then(|s| s.meta(cunxiang::store::keys::CONTROL_ADDR).ok().flatten())
            {
                addr = a;
            }
            !addr.is_empty()
        });
        addr
    }
}

/// A fixed-offset zone where the local time at `now` is about 15:00, so
/// "today" has most of a day of rows whatever hour the suite runs at.
pub fn afternoon_zone(now: chrono::DateTime<chrono::Utc>) -> chrono_tz::Tz {
    use chrono::Timelike;
    let mut offset = (15 - now.hour() as i32).rem_euclid(24);
    if offset > 14 {
        offset -= 24;
    }
    // Etc/GMT-8 is UTC+8 (POSIX signs are inverted).
    let name = match offset {
        0 => "Etc/GMT".to_string(),
        o => format!("Etc/GMT{:+}", -o),
    };
    name.parse().unwrap()
}

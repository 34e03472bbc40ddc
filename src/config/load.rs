//! The station folder on disk: reads `cunxiang.toml` and every
//! `schedules/*.toml`, each file on its own so one broken file never hides
//! or takes down the others.
//!
//! [`Station`] here is the whole station folder as loaded: the station
//! file's `StationConfig` (`config::station`, only what `cunxiang.toml`
//! says) plus every schedule file, with their findings and good copies.
//! This is the one part of `config` that reads the disk; it must not
//! plan, play or write the store.

use crate::config::diag::Diagnostic;
use crate::config::schedule::{self, Broadcast, Parsed};
use crate::config::station::{self, StationConfig, STATION_FILE};
use crate::i18n::Msg;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The last valid station file, kept beside it (not in the data folder:
/// the data folder is itself named in the station file). A broken
/// `cunxiang.toml` runs on this copy, never silently on defaults.
pub const GOOD_COPY: &str = ".cunxiang.toml.good";

/// The lock beside the station file, held by the running daemon: one
/// daemon per station folder, whatever data folder the station file names
/// (editing `[folders] data` while one runs must not let a second start).
pub const STATION_LOCK: &str = ".cunxiang.lock";

/// Written by the running daemon beside [`STATION_LOCK`] (which may not be
/// read on Windows while locked): the data folder it uses, so every
/// command reads the running daemon's store even after `[folders] data`
/// was edited. Believed only while the lock is held.
pub const RUNNING_FILE: &str = ".cunxiang.running";

/// The data folder of the daemon running on the station in `dir`, if one
/// runs: `Some(None)` when one runs but its data folder is not known.
pub fn running_daemon(dir: &Path) -> Option<Option<PathBuf>> {
    let f = std::fs::File::open(dir.join(STATION_LOCK)).ok()?;
    match f.try_lock_shared() {
        // Nobody holds it: no daemon (the shared lock goes with `f`).
        Ok(()) => None,
        Err(std::fs::TryLockError::WouldBlock) => Some(
            std::fs::read_to_string(dir.join(RUNNING_FILE))
                .ok()
                .and_then(|t| t.lines().nth(1).map(PathBuf::from))
                .filter(|p| !p.as_os_str().is_empty()),
        ),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

/// Where the running daemon's HTTP control answers and which run it is,
/// from its note beside the station file: found even when its store
/// cannot be read. `None` when no daemon runs or it has not said yet.
pub fn running_control(dir: &Path) -> Option<(String, String)> {
    running_daemon(dir)?;
    let text = std::fs::read_to_string(dir.join(RUNNING_FILE)).ok()?;
    let mut lines = text.lines().skip(2);
    let addr = lines.next().filter(|a| !a.is_empty())?.to_string();
    let instance = lines.next().filter(|i| !i.is_empty())?.to_string();
    Some((addr, instance))
}

/// Where the station's settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfigSource {
    /// `cunxiang.toml` as it is (or no file: every default).
    #[default]
    File,
    /// `cunxiang.toml` has errors: its last good copy.
    GoodCopy,
    /// `cunxiang.toml` has errors and there is no good copy.
    Defaults,
}

/// One schedule file and what parsing it gave.
#[derive(Debug)]
pub struct ScheduleFile {
    pub path: PathBuf,
    /// The name shown to operators (`schedules/一封信.toml`).
    pub shown: String,
    pub parsed: Parsed,
    /// The text as read (none when the file could not be read), kept as
    /// the file's good version while it has no errors.
    pub text: Option<String>,
}

impl ScheduleFile {
    /// Whether this file goes on air (it has no errors).
    pub fn is_valid(&self) -> bool {
        self.parsed.is_valid()
    }
}

/// A station folder, read: the whole of it (station file, schedules, their
/// findings, where the config came from). Not the same as
/// [`StationConfig`], which is only what `cunxiang.toml` says and is the
/// `config` field here.
#[derive(Debug)]
pub struct Station {
    pub dir: PathBuf,
    /// The station file's settings (the file's, a good copy's or defaults;
    /// see `config_source`).
    pub config: StationConfig,
    /// Findings about `cunxiang.toml` and the folders.
    pub station_diags: Vec<Diagnostic>,
    /// Schedule files in name order.
    pub files: Vec<ScheduleFile>,
    /// Where `config` came from.
    pub config_source: ConfigSource,
    /// The text of a valid `cunxiang.toml`, to keep as the good copy.
    pub valid_text: Option<String>,
    /// Whether the schedules folder could be read (a file not listed is
    /// then really gone).
    pub schedules_read: bool,
    /// A daemon runs on this station now, and the data folder it uses
    /// (which wins over the station file's until that daemon restarts).
    pub running: Option<Option<PathBuf>>,
}

/// Reads `cunxiang.toml`, falling back to its good copy, then to
/// defaults: the config, the findings, where the config came from, and
/// the text to keep as the next good copy.
fn read_config(dir: &Path) -> (StationConfig, Vec<Diagnostic>, ConfigSource, Option<String>) {
    let mut station_diags = Vec::new();
    let cfg_path = dir.join(STATION_FILE);
    let mut valid_text = None;
    let mut config_source = ConfigSource::File;
    let parsed = match read_text(&cfg_path) {
        Ok(None) => Some(StationConfig::default()),
        Ok(Some(text)) => {
            let p = station::parse(STATION_FILE, &text);
            let ok = !p.diagnostics.iter().any(|d| d.is_error());
            station_diags.extend(p.diagnostics);
            if ok {
                valid_text = Some(text);
            }
            ok.then_some(p.config)
        }
        Err(msg) => {
            station_diags.push(Diagnostic::error(Some(STATION_FILE.into()), msg));
            None
        }
    };
    let config = match parsed {
        Some(c) => c,
        None => match good_copy(dir) {
            Some((config, saved)) => {
                config_source = ConfigSource::GoodCopy;
                station_diags.push(Diagnostic::warning(
                    Some(STATION_FILE.into()),
                    Msg::StationOnGoodCopy {
                        copy: GOOD_COPY.into(),
                        saved,
                    },
                ));
                config
            }
            None => {
                config_source = ConfigSource::Defaults;
                let d = StationConfig::default();
                station_diags.push(Diagnostic::warning(
                    Some(STATION_FILE.into()),
                    Msg::StationOnDefaults {
                        data: d.data_dir.display().to_string(),
                        name: d.name.clone(),
                        timezone: d.timezone.name().to_string(),
                    },
                ));
                d
            }
        },
    };
    (config, station_diags, config_source, valid_text)
}

impl Station {
    /// Reads the station in `dir`. Never fails: every problem is a finding.
    pub fn load(dir: &Path) -> Station {
        let (config, station_diags, config_source, valid_text) = read_config(dir);
        let mut st = Station {
            dir: dir.to_path_buf(),
            config,
            station_diags,
            files: Vec::new(),
            config_source,
            valid_text,
            running: running_daemon(dir),
            schedules_read: false,
        };
        st.check_data_folder();
        let audio = st.audio_dir();
        if !audio.is_dir() {
            let shown = shown_path(&st.dir, &audio);
            st.station_diags.push(Diagnostic::error(
                None,
                Msg::FolderMissing {
                    key: "audio",
                    dir: shown,
                },
            ));
        }
        st.read_schedules();
        st.check_duplicate_names();
        st
    }

    /// A daemon running on another data folder than the file now names.
    fn check_data_folder(&mut self) {
        let dir = &self.dir;
        if let Some(Some(running)) = &self.running {
            let configured = dir.join(&self.config.data_dir);
            if !same_path(running, &configured) {
                self.station_diags.push(Diagnostic::warning(
                    Some(STATION_FILE.into()),
                    Msg::DataFolderChanged {
                        running: shown_path(dir, running),
                        configured: shown_path(dir, &configured),
                    },
                ));
            }
        }
    }

    /// Reads every `schedules/*.toml`, each on its own.
    fn read_schedules(&mut self) {
        let dir = self.dir.clone();
        let dir = dir.as_path();
        let st = self;
        let sched_dir = st.schedules_dir();
        let sched_shown = shown_path(dir, &sched_dir);
        match std::fs::read_dir(&sched_dir) {
            Err(_) => st.station_diags.push(Diagnostic::error(
                None,
                Msg::FolderMissing {
                    key: "schedules",
                    dir: sched_shown,
                },
            )),
            Ok(entries) => {
                st.schedules_read = true;
                let mut paths: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.is_file()
                            && p.extension()
                                .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
                    })
                    .collect();
                paths.sort();
                if paths.is_empty() {
                    st.station_diags.push(Diagnostic::warning(
                        None,
                        Msg::NoScheduleFiles { dir: sched_shown },
                    ));
                }
                for path in paths {
                    let shown = shown_path(dir, &path);
                    let (parsed, text) = match read_text(&path) {
                        Ok(Some(text)) => (schedule::parse(&shown, &text), Some(text)),
                        Ok(None) => (Parsed::default(), None),
                        Err(msg) => (
                            Parsed {
                                broadcasts: Vec::new(),
                                diagnostics: vec![Diagnostic::error(Some(shown.clone()), msg)],
                            },
                            None,
                        ),
                    };
                    st.files.push(ScheduleFile {
                        path,
                        shown,
                        parsed,
                        text,
                    });
                }
            }
        }
    }

    /// A broadcast name used in two files: the later file is in error, so
    /// the earlier one stays on air unchanged.
    fn check_duplicate_names(&mut self) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for f in &mut self.files {
            let mut new_diags = Vec::new();
            for b in &f.parsed.broadcasts {
                match seen.get(&b.name) {
                    Some(first) => new_diags.push(
                        Diagnostic::error(
                            Some(f.shown.clone()),
                            Msg::DuplicateName {
                                name: b.name.clone(),
                                first: first.clone(),
                            },
                        )
                        .at(Some((b.line, 1)))
                        .in_broadcast(Some(&b.name)),
                    ),
                    None => {
                        seen.insert(b.name.clone(), format!("{}:{}", f.shown, b.line));
                    }
                }
            }
            for d in &mut new_diags {
                d.key = Some("name".into());
            }
            f.parsed.diagnostics.extend(new_diags);
        }
    }

    /// The audio folder (absolute or under the station folder).
    pub fn audio_dir(&self) -> PathBuf {
        self.dir.join(&self.config.audio_dir)
    }

    /// The schedules folder.
    pub fn schedules_dir(&self) -> PathBuf {
        self.dir.join(&self.config.schedules_dir)
    }

    /// The data folder (database, logs): the running daemon's while one
    /// runs, else the one the station file names.
    pub fn data_dir(&self) -> PathBuf {
        match &self.running {
            Some(Some(running)) => running.clone(),
            _ => self.dir.join(&self.config.data_dir),
        }
    }

    /// Broadcasts of the files that go on air.
    pub fn broadcasts(&self) -> Vec<Broadcast> {
        self.files
            .iter()
            .filter(|f| f.is_valid())
            .flat_map(|f| f.parsed.broadcasts.iter().cloned())
            .collect()
    }

    /// Every broadcast parsed, from valid and invalid files alike (for
    /// checking their audio files too).
    pub fn all_broadcasts(&self) -> impl Iterator<Item = &Broadcast> {
        self.files.iter().flat_map(|f| f.parsed.broadcasts.iter())
    }

    /// Every finding from the station file and the schedule files.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut v = self.station_diags.clone();
        for f in &self.files {
            v.extend(f.parsed.diagnostics.iter().cloned());
        }
        v
    }

    /// Keeps a valid `cunxiang.toml` as the good copy ([`GOOD_COPY`]),
    /// written atomically and only when it changed. The daemon calls this
    /// each time it loads a valid station file.
    ///
    /// # Errors
    /// When the copy cannot be written (the station keeps running).
    pub fn keep_good_copy(&self) -> std::io::Result<bool> {
        let Some(text) = &self.valid_text else {
            return Ok(false);
        };
        let path = self.dir.join(GOOD_COPY);
        if std::fs::read_to_string(&path).is_ok_and(|old| &old == text) {
            return Ok(false);
        }
        let tmp = self.dir.join(format!("{GOOD_COPY}.tmp"));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok(true)
    }

    /// Whether the station file itself has errors.
    pub fn config_has_errors(&self) -> bool {
        self.station_diags.iter().any(|d| d.is_error())
    }
}

/// The good copy's settings and when it was saved (local time), if it
/// exists and is itself valid.
fn good_copy(dir: &Path) -> Option<(StationConfig, String)> {
    let path = dir.join(GOOD_COPY);
    let text = read_text(&path).ok()??;
    let p = station::parse(GOOD_COPY, &text);
    if p.diagnostics.iter().any(|d| d.is_error()) {
        return None;
    }
    let saved = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .with_timezone(&p.config.timezone)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    Some((p.config, saved))
}

/// Reads a text file; `Ok(None)` if it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, Msg> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = bytes
                .strip_prefix(b"\xEF\xBB\xBF".as_slice())
                .unwrap_or(&bytes)
                .to_vec();
            String::from_utf8(bytes).map(Some).map_err(|_| Msg::NotUtf8)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Msg::FileUnreadable {
            detail: e.to_string(),
        }),
    }
}

/// Whether two paths name the same folder (either may not exist yet).
fn same_path(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

/// A path as operators see it: relative to the station folder, with `/`.
pub fn shown_path(station: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(station).unwrap_or(p);
    rel.to_string_lossy().replace('\\', "/")
}

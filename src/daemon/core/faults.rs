//! Output and content outages: the sound device failing and working
//! again (with backoff), a file that cannot be played, and the warning
//! ahead of air time for files not there yet. The state is the `Faults`
//! and `Warnings` components; nothing else keeps fault flags.

use super::Daemon;
use crate::daemon::settings::*;
use crate::i18n::Lang;
use crate::plan::{self, Firing};
use crate::sound::media;
use crate::store::{keys, ts, OutageKind, OutageRow};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// Which output and content faults are open (kept by hand so a working
/// play does not ask the store every time), and the device's retry.
pub(super) struct Faults {
    /// Next device retry (wall time) and the backoff after it, while an
    /// `output` outage is open.
    retry: Option<(DateTime<Utc>, Duration)>,
    /// Whether an `output` outage may be open.
    output_open: bool,
    /// Files with an open `content` outage.
    content_open: BTreeSet<String>,
}

impl Faults {
    pub(super) fn new() -> Faults {
        Faults {
            retry: None,
            output_open: false,
            content_open: BTreeSet::new(),
        }
    }

    /// Which of its outages the store has open (at start-up).
    pub(super) fn remember_open(&mut self, open: &[OutageRow]) {
        self.output_open = open
            .iter()
            .any(|o| o.kind == OutageKind::Output && !o.subject.starts_with(MONITOR_SUBJECT));
        self.content_open = open
            .iter()
            .filter(|o| o.kind == OutageKind::Content)
            .map(|o| o.subject.clone())
            .collect();
    }

    /// When the device is to be tried again, if it failed.
    pub(super) fn next_retry(&self) -> Option<DateTime<Utc>> {
        self.retry.map(|(at, _)| at)
    }

    /// The file's `content` outage is open no longer (it played); returns
    /// whether it was.
    pub(super) fn content_played(&mut self, file: &str) -> bool {
        self.content_open.remove(file)
    }

    /// The device failed again: the next retry backs off (1 s doubling to
    /// 30 s).
    fn back_off(&mut self, now: DateTime<Utc>) {
        let backoff = self
            .retry
            .map_or(Duration::from_secs(1), |(_, b)| (b * 2).min(MAX_BACKOFF));
        self.retry = Some((
            now + TimeDelta::from_std(backoff).unwrap_or_default(),
            backoff,
        ));
    }
}

/// Files warned about as missing before air time, and when that was last
/// looked at.
#[derive(Default)]
pub(super) struct Warnings {
    /// (broadcast, instant) already warned about a missing file.
    warned: HashSet<(String, DateTime<Utc>)>,
    /// Monotonic time of the last look for missing files.
    last_check: Option<Duration>,
}

impl Warnings {
    /// At most once a minute: a file uploaded or removed shows up soon
    /// enough, and a broadcast firing every second costs nothing extra.
    fn due(&mut self, mono: Duration) -> bool {
        if self
            .last_check
            .is_some_and(|t| mono < t + Duration::from_secs(60))
        {
            return false;
        }
        self.last_check = Some(mono);
        true
    }
}

impl Daemon {
    /// The output failed: open (or keep) its outage and schedule a retry
    /// with backoff (1 s doubling to 30 s). Returns the outage id.
    pub(in crate::daemon) async fn output_failed(
        &mut self,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, RunError> {
        let id = self.output_outage_id(error, at).await?;
        let now = self.clock.now();
        self.faults.back_off(now);
        Ok(id)
    }

    /// The `output` outage's id, opened if none is open, without moving
    /// the retry on (one failure recorded against two things).
    pub(in crate::daemon) async fn output_outage_id(
        &mut self,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, RunError> {
        self.faults.output_open = true;
        let (subject, detail) = (self.player.name().to_string(), error.to_string());
        let (id, new) = self
            .store
            .call(move |s| s.open_outage(OutageKind::Output, &subject, at, &detail))
            .await?;
        if new {
            tracing::error!(output = %self.player.name(), %error, "sound output failing: outage opened");
        }
        Ok(id)
    }

    /// The output works again: close its outage.
    pub(in crate::daemon) async fn output_ok(&mut self, at: DateTime<Utc>) -> Result<(), RunError> {
        self.faults.retry = None;
        if !self.faults.output_open {
            return Ok(());
        }
        self.faults.output_open = false;
        let subject = self.player.name().to_string();
        if self
            .store
            .call(move |s| s.close_outage(OutageKind::Output, &subject, at))
            .await?
            .is_some()
        {
            tracing::info!(output = %self.player.name(), "sound output works again: outage closed");
        }
        Ok(())
    }

    /// Opens (or keeps) the `content` outage of a file; returns its id.
    pub(in crate::daemon) async fn open_content(
        &mut self,
        file: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, RunError> {
        self.faults.content_open.insert(file.to_string());
        let (f, d) = (file.to_string(), detail.to_string());
        Ok(self
            .store
            .call(move |s| s.open_outage(OutageKind::Content, &f, at, &d))
            .await?
            .0)
    }

    /// Closes the `content` outages of files that play again.
    pub(in crate::daemon) async fn recheck_content(&mut self) -> Result<(), RunError> {
        if self.faults.content_open.is_empty() {
            return Ok(());
        }
        let audio = self.station_dir.join(&self.config.audio_dir);
        let files: Vec<String> = self.faults.content_open.iter().cloned().collect();
        let fixed: Vec<String> = tokio::task::spawn_blocking(move || {
            files
                .into_iter()
                .filter(|f| {
                    media::resolve_under(&audio, f)
                        .and_then(|p| media::probe(&p))
                        .is_ok()
                })
                .collect()
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "decoder crashed while re-checking files");
            Vec::new()
        });
        let now = self.clock.now();
        for f in fixed {
            self.faults.content_open.remove(&f);
            tracing::info!(file = %f, "file playable again: content outage closed");
            self.store
                .call(move |s| s.close_outage(OutageKind::Content, &f, now))
                .await?;
        }
        Ok(())
    }

    /// Warns (log and `status`) about files missing for firings in the
    /// next hour, so the operator can still upload them.
    pub(in crate::daemon) async fn warn_missing_soon(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<(), RunError> {
        if !self.warnings.due(self.clock.monotonic()) {
            return Ok(());
        }
        let audio = self.station_dir.join(&self.config.audio_dir);
        // The first firing of each broadcast within the hour, and each
        // distinct file once.
        let mut soon: Vec<Firing> = Vec::new();
        for b in self.broadcasts.iter() {
            let f = plan::firings(std::slice::from_ref(b), &self.rules, now, now + WARN_AHEAD)
                .into_iter()
                .find(|f| f.skip.is_none());
            soon.extend(f);
        }
        let mut exists: std::collections::HashMap<String, bool> = Default::default();
        for f in &soon {
            if self
                .warnings
                .warned
                .contains(&(f.broadcast.clone(), f.scheduled_at))
            {
                continue;
            }
            let missing: Vec<&String> = f
                .files
                .iter()
                .filter(|x| {
                    !*exists
                        .entry((*x).clone())
                        .or_insert_with(|| media::resolve_under(&audio, x).is_ok())
                })
                .collect();
            if let Some(file) = missing.first() {
                self.warnings
                    .warned
                    .insert((f.broadcast.clone(), f.scheduled_at));
                let msg = crate::i18n::Msg::WarnFileMissingSoon {
                    name: f.broadcast.clone(),
                    time: f
                        .scheduled_at
                        .with_timezone(&self.rules.tz)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    path: format!("{}/{}", self.config.audio_dir.display(), file),
                };
                tracing::warn!("{}", msg.render(Lang::En));
                let json = serde_json::json!({"at": ts(now), "scheduled_at": ts(f.scheduled_at), "broadcast": f.broadcast, "file": file, "zh": msg.render(Lang::Zh), "en": msg.render(Lang::En)});
                let mut list: Vec<serde_json::Value> = self
                    .store
                    .call(|s| s.meta(keys::WARNINGS))
                    .await?
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                list.retain(|w| {
                    w["scheduled_at"]
                        .as_str()
                        .is_some_and(|t| t >= ts(now).as_str())
                });
                list.push(json);
                let text = serde_json::to_string(&list).expect("json");
                self.store
                    .call(move |s| s.set_meta(keys::WARNINGS, &text))
                    .await?;
            }
        }
        Ok(())
    }
}

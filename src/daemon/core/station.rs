//! Applying the station: the station file and every schedule file as
//! loaded, their last good versions, `config` outages and reloads. The
//! only place (with `off_air.rs`) that changes what is on air.

use super::{Daemon, FileState};
use crate::config::diag::Diagnostic;
use crate::config::load::Station;
use crate::config::schedule::Broadcast;
use crate::daemon::settings::*;
use crate::daemon::source::*;
use crate::i18n::Lang;
use crate::plan::Rules;
use crate::store::{keys, OutageKind, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Daemon {
    /// Takes a freshly loaded station: valid files replace their last good
    /// version, broken ones keep it; a broken station file keeps the old
    /// settings.
    pub(in crate::daemon) async fn apply_station(
        &mut self,
        mut station: Station,
    ) -> Result<(), RunError> {
        self.flag_emptied_files(&mut station).await?;
        self.apply_settings(&station);
        if !station.schedules_read {
            self.keep_unreadable_folder().await?;
        }
        self.merge_files(&station).await?;
        self.put_on_air(&station);
        self.sync_config_outages(&station).await?;
        self.settle_off_pending().await?;
        self.terminals.probe(&self.config.terminals, &self.clock);
        self.close_unconfigured().await?;
        self.warm_notices();
        let errors: Vec<String> = self.errors().iter().map(|d| d.render(Lang::Zh)).collect();
        let json = serde_json::to_string(&errors).expect("json");
        self.store
            .call(move |s| s.set_meta(keys::SCHEDULE_ERRORS, &json))
            .await?;
        tracing::info!(
            broadcasts = self.broadcasts.len(),
            files = self.files.len(),
            errors = errors.len(),
            "schedules loaded"
        );
        Ok(())
    }

    /// The station file's settings, unless it has errors and settings are
    /// already running; and its good copy kept.
    fn apply_settings(&mut self, station: &Station) {
        if station.config_has_errors() && self.applied {
            tracing::warn!("cunxiang.toml has errors; keeping the previous settings");
        } else {
            match station.config_source {
                crate::config::load::ConfigSource::GoodCopy => tracing::error!(
                    copy = crate::config::load::GOOD_COPY,
                    "cunxiang.toml has errors; running on its last good copy"
                ),
                crate::config::load::ConfigSource::Defaults => tracing::error!(
                    data = %station.config.data_dir.display(),
                    name = %station.config.name,
                    "cunxiang.toml has errors and there is no good copy; running on DEFAULTS (no quiet hours, no holidays)"
                ),
                crate::config::load::ConfigSource::File => {}
            }
            self.config = station.config.clone();
            self.rules = Rules::from_config(&self.config);
        }
        self.applied = true;
        match station.keep_good_copy() {
            Ok(true) => tracing::info!(
                copy = crate::config::load::GOOD_COPY,
                "kept a good copy of cunxiang.toml"
            ),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, copy = crate::config::load::GOOD_COPY, "cannot keep a good copy of cunxiang.toml")
            }
        }
        self.station_errors = station
            .station_diags
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
    }

    /// The schedules folder is gone or unreadable (`rm -rf schedules`, a
    /// disk hiccup): that is a fault on the repair list, not an order to go
    /// silent. What was on air stays on air; at start-up, the good versions
    /// kept in the store do.
    async fn keep_unreadable_folder(&mut self) -> Result<(), RunError> {
        if self.files.is_empty() {
            let kept = self.store.call(|s| s.good_files()).await?;
            for (file, text) in kept {
                let p = crate::config::schedule::parse(&file, &text);
                if p.is_valid() {
                    self.files.insert(
                        file,
                        FileState {
                            good: p.broadcasts,
                            errors: Vec::new(),
                            restored: true,
                        },
                    );
                }
            }
        }
        tracing::error!(
            broadcasts = self.files.values().map(|f| f.good.len()).sum::<usize>(),
            "the schedules folder cannot be read; the last good schedules stay on air"
        );
        Ok(())
    }

    /// Each schedule file as loaded: a valid one replaces its good version
    /// (kept in the store too), a broken one keeps it (or gets it back from
    /// the store) and shows its errors.
    async fn merge_files(&mut self, station: &Station) -> Result<(), RunError> {
        let now = self.clock.now();
        let mut files = BTreeMap::new();
        if !station.schedules_read {
            files = std::mem::take(&mut self.files);
        }
        for f in &station.files {
            let mut st = self.files.remove(&f.shown).unwrap_or_default();
            if f.is_valid() {
                st.good = f.parsed.broadcasts.clone();
                st.errors.clear();
                st.restored = false;
                // Kept in the store: a file broken while the daemon is down
                // goes on air as it last was, after a restart too.
                if let Some(text) = f.text.clone() {
                    let file = f.shown.clone();
                    self.store
                        .call(move |s| s.keep_good_file(&file, &text, now))
                        .await?;
                }
            } else {
                if st.good.is_empty() && !st.restored {
                    st.restored = true;
                    let file = f.shown.clone();
                    if let Some((text, saved)) =
                        self.store.call(move |s| s.good_file(&file)).await?
                    {
                        let p = crate::config::schedule::parse(&f.shown, &text);
                        if p.is_valid() {
                            tracing::warn!(file = %f.shown, saved = %saved, broadcasts = p.broadcasts.len(), "the file has errors: its last good version, kept in the store, goes on air");
                            st.good = p.broadcasts;
                        }
                    }
                }
                st.errors = f
                    .parsed
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect();
                for e in &st.errors {
                    tracing::warn!(file = %f.shown, "{}", e.render(Lang::En));
                }
                if !st.good.is_empty() {
                    tracing::warn!(file = %f.shown, "keeping the last good version of this file on air");
                }
            }
            files.insert(f.shown.clone(), st);
        }
        self.files = files;
        // Files gone from a readable schedules folder go off air for good.
        if station.schedules_read {
            let keep: Vec<String> = self.files.keys().cloned().collect();
            self.store
                .call(move |s| s.forget_good_files_except(&keep))
                .await?;
        }
        Ok(())
    }

    /// The broadcasts on air (the good version of each file, the self-test)
    /// and those off air (only a broken file holds them).
    fn put_on_air(&mut self, station: &Station) {
        let mut seen = std::collections::HashSet::new();
        let mut list: Vec<Broadcast> = self
            .files
            .values()
            .flat_map(|f| f.good.iter().cloned())
            .filter(|b| seen.insert(b.name.clone()))
            .collect();
        if let (Some(m), Some(_)) = (&self.config.monitor, self.hearing.name()) {
            if let Some(at) = m.self_test {
                list.push(self_test_broadcast(at));
            }
        }
        // Broadcasts only a broken file holds (it never had a good
        // version): off air, and each of their firings is logged missed.
        let off_air = station
            .files
            .iter()
            .filter(|f| !f.is_valid())
            .flat_map(|f| {
                f.parsed
                    .broadcasts
                    .iter()
                    .filter(|b| b.enabled && !seen.contains(&b.name))
                    .map(|b| (b.clone(), f.shown.clone()))
            })
            .collect();
        self.broadcasts = Arc::new(list);
        self.off_air = off_air;
    }

    /// A schedule file that now holds no broadcast where its good version
    /// had some is a suspect edit (a save cut short, an editor that
    /// truncates first and writes slowly), not a wish to go silent: it is
    /// marked in error, so its good version stays on air and the repair
    /// list says so. Deleting the file takes its broadcasts off air.
    pub(in crate::daemon) async fn flag_emptied_files(
        &mut self,
        station: &mut Station,
    ) -> Result<(), RunError> {
        for f in station
            .files
            .iter_mut()
            .filter(|f| f.is_valid() && f.parsed.broadcasts.is_empty())
        {
            let had = match self.files.get(&f.shown) {
                Some(st) if !st.good.is_empty() => true,
                Some(_) => false,
                None => {
                    let file = f.shown.clone();
                    self.store
                        .call(move |s| s.good_file(&file))
                        .await?
                        .is_some_and(|(text, _)| {
                            !crate::config::schedule::parse(&f.shown, &text)
                                .broadcasts
                                .is_empty()
                        })
                }
            };
            if had {
                f.parsed.diagnostics.push(Diagnostic::error(
                    Some(f.shown.clone()),
                    crate::i18n::Msg::ScheduleEmptied,
                ));
            }
        }
        Ok(())
    }

    /// One open `config` outage per file with errors (the station file or
    /// a schedule file), closed once the file is fixed or removed: a file
    /// off air is on the repair list.
    pub(in crate::daemon) async fn sync_config_outages(
        &mut self,
        station: &Station,
    ) -> Result<(), RunError> {
        let mut broken: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
        if !self.station_errors.is_empty() {
            broken.insert(
                crate::config::station::STATION_FILE.to_string(),
                self.station_errors.clone(),
            );
        }
        for f in station.files.iter().filter(|f| !f.is_valid()) {
            broken.insert(
                f.shown.clone(),
                f.parsed
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect(),
            );
        }
        let now = self.clock.now();
        let open: Vec<String> = self
            .store
            .call(|s| s.outages(true, None))
            .await?
            .into_iter()
            .filter(|o| o.kind == OutageKind::Config)
            .map(|o| o.subject)
            .collect();
        for subject in open.into_iter().filter(|s| !broken.contains_key(s)) {
            tracing::info!(file = %subject, "file fixed: config outage closed");
            self.config_open.remove(&subject);
            self.store
                .call(move |s| s.close_outage(OutageKind::Config, &subject, now))
                .await?;
        }
        for (file, errors) in broken {
            let mut detail = errors
                .first()
                .map(|d| d.render(Lang::En))
                .unwrap_or_default();
            if errors.len() > 1 {
                detail.push_str(&format!(" (and {} more)", errors.len() - 1));
            }
            let subject = file.clone();
            let (id, new) = self
                .store
                .call(move |s| s.open_outage(OutageKind::Config, &subject, now, &detail))
                .await?;
            if new {
                tracing::error!(%file, "file has errors: config outage opened");
            }
            self.config_open.insert(file, id);
        }
        Ok(())
    }

    pub(in crate::daemon) async fn reload(&mut self) -> Result<(), RunError> {
        let dir = self.station_dir.clone();
        let station = tokio::task::spawn_blocking(move || Station::load(&dir))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        self.apply_station(station).await?;
        self.recheck_content().await
    }

    /// Closes open outages whose subject is no longer configured (a
    /// terminal removed or renamed, the monitor changed or removed): no one
    /// would ever close them otherwise.
    pub(in crate::daemon) async fn close_unconfigured(&mut self) -> Result<(), RunError> {
        let monitor = self.hearing.name();
        let terminals: Vec<String> = self.config.terminals.iter().map(|t| t.subject()).collect();
        let now = self.clock.now();
        let stale: Vec<(OutageKind, String)> = self
            .store
            .call(|s| s.outages(true, None))
            .await?
            .into_iter()
            .filter(|o| match o.kind {
                OutageKind::Signal => monitor.as_deref() != Some(o.subject.as_str()),
                OutageKind::Output => o
                    .subject
                    .strip_prefix(MONITOR_SUBJECT)
                    .is_some_and(|n| monitor.as_deref() != Some(n)),
                OutageKind::Terminal => !terminals.contains(&o.subject),
                _ => false,
            })
            .map(|o| (o.kind, o.subject))
            .collect();
        for (kind, subject) in stale {
            tracing::info!(kind = kind.as_str(), %subject, "no longer configured: outage closed");
            if kind == OutageKind::Signal {
                self.hearing.signal_closed();
            }
            self.store
                .call(move |s| s.close_outage(kind, &subject, now))
                .await?;
        }
        Ok(())
    }
}

//! Typed notices ahead of air time: when the station is applied, every
//! notice on air is read aloud into the cache on the blocking pool, so
//! at air time its file is there (and an engine that fails shows in the
//! log at once, not at the broadcast). Air time still renders what is
//! missing: this only saves the wait.

use super::Daemon;
use crate::daemon::notice::{self, Notice};
use std::collections::BTreeSet;

impl Daemon {
    /// Renders the notices of the broadcasts on air that are not rendered
    /// yet, off the run loop; failures are logged (the firing's own build
    /// records them).
    pub(super) fn warm_notices(&self) {
        let texts: BTreeSet<String> = self
            .broadcasts
            .iter()
            .filter_map(|b| b.say.clone())
            .collect();
        if texts.is_empty() {
            return;
        }
        let n = Notice::new(notice::voice(&self.config), &self.data_dir);
        tokio::task::spawn_blocking(move || {
            for text in texts {
                match n.render(&text) {
                    Ok(r) if !r.cached => {
                        tracing::info!(file = %r.path.display(), secs = r.duration.as_secs_f32(), "notice read aloud ahead of air time")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "a notice cannot be read aloud ahead of air time")
                    }
                }
            }
        });
    }
}

//! The daemon's live view as the read models take it: turns a
//! [`Live`] into a [`Running`] (progress, next firings, held records, at
//! `now`). It owns only that translation; it must not read the store or
//! the station's files.

use crate::daemon::Live;
use crate::views::status::{OnAir, Running};
use chrono::{DateTime, Utc};

/// What `views::status` needs from the running daemon at `now`.
pub fn running(live: &Live, now: DateTime<Utc>) -> Running<'_> {
    Running {
        since: live.since,
        instance: &live.instance,
        output: &live.output,
        on_air: live.now_playing.as_ref().map(|p| OnAir {
            broadcast: &p.broadcast,
            priority: p.priority,
            trigger: p.trigger,
            scheduled_at: p.scheduled_at,
            item: p.items.get(p.index).map(|i| i.0.as_str()),
            index: p.index,
            items: p.items.len(),
            position: p.position(now),
            duration: p.total(),
            cut_by: p.cut_by.as_deref(),
            relay: p.relay.as_ref().map(|f| f.view()),
        }),
        queued: &live.queued,
        next: live.next(now, 5),
        errors: &live.errors,
        monitor: live.monitor.as_ref().map(|(n, h)| (n.as_str(), h)),
        held: live.store.as_ref().and_then(|s| s.held()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_status_fallback_heartbeat_is_the_daemons() {
        assert_eq!(
            crate::views::status::HEARTBEAT_FALLBACK,
            crate::daemon::HEARTBEAT
        );
    }
}

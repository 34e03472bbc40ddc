//! The daemon's web face: HTTP routes, the dashboard, `/metrics`. Reads
//! through `views/` and the daemon's control channel.

pub mod dashboard;
pub mod http;
pub mod metrics;

//! The daemon's web face: HTTP routes, the dashboard, `/metrics`. Reads
//! through `views/` and the daemon's control channel and live view; it
//! must never import `cli/` (the CLI is one more client of the same read
//! models).

pub mod dashboard;
pub mod http;
pub mod live;
pub mod metrics;

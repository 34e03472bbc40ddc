//! cunxiang (村响): the village emergency-broadcast daemon's library.
//!
//! The binary (`src/main.rs`) only parses arguments; everything testable
//! lives here, one module per concern.

#[cfg(target_os = "linux")]
pub mod alsa_log;
pub mod check;
pub mod client;
pub mod clock;
pub mod commands;
pub mod daemon;
pub mod dashboard;
pub mod diag;
pub mod http;
pub mod i18n;
pub mod ledger;
pub mod load;
pub mod logline;
pub mod media;
pub mod metrics;
pub mod monitor;
pub mod output;
pub mod planner;
pub mod schedule;
pub mod station;
pub mod store;
pub mod terminals;
pub mod tomlread;
pub mod view;

/// Exit code: everything fine (warnings allowed).
pub const EXIT_OK: i32 = 0;
/// Exit code: findings that need attention, or a failed action.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: bad usage or configuration errors.
pub const EXIT_CONFIG: i32 = 2;

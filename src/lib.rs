//! cunxiang (村响): the village emergency-broadcast daemon's library.
//!
//! The binary (`src/main.rs`) only parses arguments; everything testable
//! lives here, one module per concern.

pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod i18n;
pub mod logline;
pub mod plan;
pub mod sound;
pub mod store;
pub mod views;
pub mod web;

/// Exit code: everything fine (warnings allowed).
pub const EXIT_OK: i32 = 0;
/// Exit code: findings that need attention, or a failed action.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: bad usage or configuration errors.
pub const EXIT_CONFIG: i32 = 2;

//! Read models: what the CLI and the web face show — the check report,
//! the station's status, the as-run log, the outage ledger, day reports
//! and the words and text helpers they share. Typed and `Serialize`, so
//! the CLI and the API print the same fields. They read the config and
//! the store (one [`reading::Reading`] per request); they never print,
//! never drive the daemon and never name it.

pub mod check;
pub mod ledger;
pub mod log;
pub mod outages;
pub mod reading;
pub mod report;
pub mod sources;
pub mod status;
pub mod text;

pub use log::heard_word;
pub use reading::{open_store, ReadError, Reading};

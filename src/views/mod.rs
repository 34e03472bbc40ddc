//! Read models: what the CLI and the web face show — the check report,
//! the ledger's words and day reports, text rendering helpers. They read
//! the config and the store; they never drive the daemon.

pub mod check;
pub mod ledger;
pub mod text;

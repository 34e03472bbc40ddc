//! The CLI commands as library functions, one file per command: each
//! parses nothing itself (the binary does), takes its options, reads
//! through `views/`, writes to the given streams and returns the exit
//! code. They render; they must not hold read models of their own (the
//! web face shares `views/`, never this folder).

pub mod check;
pub mod client;
pub mod county;
pub mod county_page;
pub mod log;
mod out;
pub mod outages;
pub mod plan;
pub mod remote;
pub mod report;
pub mod run;
mod say;
pub mod status;

pub use check::{check, CheckFormat};
pub use log::{log, LogFormat};
pub use outages::outages;
pub use plan::{plan, PlanFormat, PlanOpts, PLAN_MAX_DAYS};
pub use remote::{play, stop, PlayArgs};
pub use report::report;
pub use run::run;
pub use say::say_to_wav;
pub use status::status;

/// Output format of `outages` and `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LedgerFormat {
    Table,
    Csv,
    Json,
    /// JSON records with emergency-broadcast state codes, for a county platform.
    Gdj,
}

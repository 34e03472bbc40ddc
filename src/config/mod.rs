//! The languages of the station folder: the station file, the schedule
//! files, reading TOML with positions and the findings (diagnostics) they
//! give. Pure text in, typed values and findings out; this folder never
//! touches the store, the sound device or the daemon.

pub mod diag;
pub mod load;
pub mod schedule;
pub mod station;
pub mod tomlread;

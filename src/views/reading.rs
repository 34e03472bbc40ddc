//! One request's reading of a station: its files loaded once and its store
//! opened once, handed to every read model the request builds. It owns
//! opening the store for reading and the typed error of a read; it must
//! not write to the store nor keep anything between requests (no cache).

use crate::config::load::Station;
use crate::i18n::{Lang, Msg};
use crate::plan::Rules;
use crate::store::{Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// The station and its store as one request reads them.
pub struct Reading {
    pub station: Station,
    pub rules: Rules,
    /// `Ok(None)`: no store yet (never run). `Err`: a store that exists
    /// (or must) and cannot be read, which every model shows as a fault.
    /// Shared, so every model built from this reading can return it.
    pub store: Result<Option<Store>, Arc<StoreError>>,
}

impl Reading {
    /// Loads the station's files and opens its store, once.
    pub fn load(station_dir: &Path) -> Reading {
        Reading::of(Station::load(station_dir))
    }

    /// Opens the store of a station already loaded.
    pub fn of(station: Station) -> Reading {
        let rules = Rules::from_config(&station.config);
        let store = open_store(&station).map_err(Arc::new);
        Reading {
            station,
            rules,
            store,
        }
    }

    /// The store, when there is one and it opened.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref().ok().and_then(Option::as_ref)
    }

    /// The store, `Ok(None)` when there is none yet.
    ///
    /// # Errors
    /// The open's error, when the store cannot be read.
    pub fn readable(&self) -> Result<Option<&Store>, ReadError> {
        match &self.store {
            Ok(s) => Ok(s.as_ref()),
            Err(e) => Err(ReadError::Store(e.clone())),
        }
    }
}

/// Why a read model could not be built: the caller's mistake (a bad
/// option), or a store that cannot be read — never an empty answer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A bad option or value; the text names it and what to write instead.
    #[error("{0}")]
    Usage(String),
    /// The store exists but cannot be read.
    #[error("{0}")]
    Store(Arc<StoreError>),
}

impl From<StoreError> for ReadError {
    fn from(e: StoreError) -> ReadError {
        ReadError::Store(Arc::new(e))
    }
}

impl ReadError {
    /// The message for the operator in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        match self {
            ReadError::Usage(m) => m.clone(),
            ReadError::Store(e) => format!("{}: {e}", store_msg(e).render(lang)),
        }
    }
}

/// What to say of a store that cannot be read: damaged, or unreadable.
pub fn store_msg(e: &StoreError) -> Msg {
    if e.is_damage() {
        Msg::StoreDamaged
    } else {
        Msg::StoreUnreadable
    }
}

/// The station's store, for reading: `Ok(None)` when there is none yet
/// (never run, or being created this instant).
///
/// # Errors
/// When a database exists but cannot be read, or is missing while a
/// daemon runs on the station (deleted under it): callers must show that
/// as a fault, never as "nothing recorded".
pub fn open_store(station: &Station) -> Result<Option<Store>, StoreError> {
    match Store::open_existing(&station.data_dir()) {
        Ok(s) => Ok(Some(s)),
        // The running daemon noted its folder once its store existed:
        // missing now, it was deleted.
        Err(StoreError::Missing { path }) if matches!(station.running, Some(Some(_))) => {
            Err(StoreError::MissingWhileRunning { path })
        }
        Err(StoreError::Missing { .. } | StoreError::NotReady { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

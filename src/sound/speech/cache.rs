//! The folder of spoken notices: a file per (words, voice, speed,
//! loudness, engine version), named by its SHA-256, looked up, written
//! through a temporary file, and kept bounded (oldest dropped first).
//! It must not run the engine, and it deletes nothing but its own files.

use super::{io_error, SpeechError};
use crate::sound::media;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// At most this many spoken notices are kept...
pub(super) const MAX_FILES: usize = 500;
/// ...and at most this many bytes of them (about 80 minutes of speech).
pub(super) const MAX_BYTES: u64 = 200 * 1024 * 1024;
/// A temporary file this old was left by a crash: removed when pruning.
const STALE_TEMP: Duration = Duration::from_secs(3600);
/// Hex digits of the hash in a file's name.
const NAME_HEX: usize = 20;

/// The cache file's name for these words, settings and engine version.
pub(super) fn file_name(words: &str, settings: &str, version: &str) -> String {
    let mut h = Sha256::new();
    for part in ["cunxiang speech 1", words, settings, version] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{}.wav", &hex[..NAME_HEX])
}

fn is_ours(name: &str) -> bool {
    name.strip_suffix(".wav")
        .is_some_and(|stem| stem.len() == NAME_HEX && stem.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The duration of a cached file that still decodes, its mtime touched so
/// pruning keeps it; a broken one is removed and `None` returned.
pub(super) fn hit(path: &Path) -> Option<Duration> {
    if !path.exists() {
        return None;
    }
    match media::probe(path) {
        Ok(info) => {
            let touched = fs::File::options()
                .append(true)
                .open(path)
                .and_then(|f| f.set_modified(SystemTime::now()));
            if let Err(e) = touched {
                tracing::debug!(path = %path.display(), error = %e, "cannot touch a cached notice");
            }
            Some(info.duration)
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cached notice broken, speaking it again");
            let _ = fs::remove_file(path);
            None
        }
    }
}

/// A temporary file beside its final place, removed unless committed.
pub(super) struct Temp {
    path: PathBuf,
    done: bool,
}

impl Temp {
    pub(super) fn beside(target: &Path) -> Temp {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
        Temp { path, done: false }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file, renames it to `target` and syncs the folder, so a
    /// power cut leaves either no file or a whole one.
    pub(super) fn commit(mut self, target: &Path) -> Result<(), SpeechError> {
        fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_error("sync", &self.path, &e))?;
        fs::rename(&self.path, target).map_err(|e| io_error("rename into", target, &e))?;
        self.done = true;
        #[cfg(unix)]
        if let Some(dir) = target.parent() {
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Deletes the oldest spoken notices (by mtime) beyond `max_files` or
/// `max_bytes`, never `keep`, and temporary files left by a crash.
/// Returns how many files it removed. Failures are logged, not returned: a
/// full cache must not stop a notice that was spoken.
pub(super) fn prune(dir: &Path, keep: &Path, max_files: usize, max_bytes: u64) -> usize {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot list the speech cache");
            return 0;
        }
    };
    let now = SystemTime::now();
    let mut files = Vec::new();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let age = now.duration_since(mtime).unwrap_or_default();
        if name.starts_with('.') && name.ends_with(".tmp") && age > STALE_TEMP {
            removed += usize::from(fs::remove_file(entry.path()).is_ok());
        } else if meta.is_file() && is_ours(&name) {
            files.push((mtime, meta.len(), entry.path()));
        }
    }
    // Newest first, and the notice just spoken before all of them.
    files.sort_by_key(|(mtime, _, path)| (path != keep, std::cmp::Reverse(*mtime)));
    let (mut count, mut bytes) = (0usize, 0u64);
    for (_, len, path) in files {
        count += 1;
        bytes += len;
        if count > max_files || bytes > max_bytes {
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot prune the speech cache")
                }
            }
        }
    }
    if removed > 0 {
        tracing::info!(dir = %dir.display(), removed, "pruned the speech cache");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_differ_by_every_part() {
        let a = file_name("今晚八点停水", "cmn-latn-pinyin/150/100", "1.51");
        assert_eq!(
            a,
            file_name("今晚八点停水", "cmn-latn-pinyin/150/100", "1.51")
        );
        assert!(is_ours(&a), "{a}");
        for other in [
            file_name("今晚九点停水", "cmn-latn-pinyin/150/100", "1.51"),
            file_name("今晚八点停水", "cmn-latn-pinyin/160/100", "1.51"),
            file_name("今晚八点停水", "cmn-latn-pinyin/150/100", "1.52"),
        ] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn prune_drops_the_oldest_of_its_own_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = SystemTime::now() - Duration::from_secs(10_000);
        let mut paths = Vec::new();
        for i in 0..6u64 {
            let p = dir.path().join(file_name(&i.to_string(), "", ""));
            fs::write(&p, vec![0u8; 100]).unwrap();
            let f = fs::File::options().append(true).open(&p).unwrap();
            f.set_modified(base + Duration::from_secs(i * 10)).unwrap();
            paths.push(p);
        }
        let foreign = dir.path().join("notes.wav");
        fs::write(&foreign, b"x").unwrap();
        let stale = dir.path().join(".abc.wav.1.0.tmp");
        fs::write(&stale, b"x").unwrap();
        let f = fs::File::options().append(true).open(&stale).unwrap();
        f.set_modified(base).unwrap();

        // The oldest file is kept when asked, so one more goes instead.
        let removed = prune(dir.path(), &paths[0], 4, 1_000_000);
        assert_eq!(removed, 3, "two notices and the stale temp");
        let left: Vec<bool> = paths.iter().map(|p| p.exists()).collect();
        assert_eq!(left, [true, false, false, true, true, true]);
        assert!(foreign.exists() && !stale.exists());

        // The byte limit alone: 250 bytes keep the two newest.
        assert_eq!(prune(dir.path(), Path::new(""), 100, 250), 2);
        assert!(paths[4].exists() && paths[5].exists() && !paths[3].exists());
    }
}

//! alsa-lib's own error messages, routed through tracing instead of
//! stderr. Without a sound card every device retry made alsa-lib print
//! eight `ALSA lib …` lines; now each is a `debug` line (the daemon logs one
//! line per device state change itself), and the last few are kept so a
//! device error can say what ALSA said.
//! It must not decide anything about the device (the daemon does).

use std::collections::VecDeque;
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

/// How many recent messages are kept for error details.
const KEEP: usize = 8;

static SEQ: AtomicU64 = AtomicU64::new(0);
static RECENT: Mutex<VecDeque<(u64, String)>> = Mutex::new(VecDeque::new());

unsafe extern "C" {
    fn cunxiang_alsa_route_errors() -> c_int;
}

/// Installs the handler (once per process; later calls do nothing).
pub fn route_to_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: installs a C function defined in src/alsa_errors.c; it
        // only formats into a stack buffer and calls `cunxiang_alsa_message`.
        let rc = unsafe { cunxiang_alsa_route_errors() };
        if rc != 0 {
            tracing::debug!(rc, "cannot route ALSA's messages");
        }
    });
}

/// A point in the message stream, for [`since`].
pub fn mark() -> u64 {
    SEQ.load(Ordering::SeqCst)
}

/// The messages ALSA printed after `mark` (the last few), joined.
pub fn since(mark: u64) -> Option<String> {
    let recent = RECENT.lock().unwrap_or_else(|p| p.into_inner());
    let v: Vec<&str> = recent
        .iter()
        .filter(|(n, _)| *n > mark)
        .map(|(_, m)| m.as_str())
        .collect();
    // The first message says what is missing, the last what failed.
    match v.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        [first, .., last] => Some(format!("{first} … {last}")),
    }
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: alsa-lib passes NUL-terminated strings (or NULL).
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Called by the C shim for each message, on whatever thread ALSA runs.
#[unsafe(no_mangle)]
extern "C" fn cunxiang_alsa_message(
    file: *const c_char,
    line: c_int,
    function: *const c_char,
    err: c_int,
    msg: *const c_char,
) {
    // Never unwind into C.
    let _ = std::panic::catch_unwind(|| {
        let (file, function, msg) = (text(file), text(function), text(msg));
        let what = if err != 0 {
            // SAFETY: snd_strerror returns a static string.
            let e = text(unsafe { alsa_sys::snd_strerror(err) });
            format!("{function}: {msg}: {e}")
        } else {
            format!("{function}: {msg}")
        };
        tracing::debug!(target: "alsa", %file, line, "{what}");
        let n = SEQ.fetch_add(1, Ordering::SeqCst) + 1;
        let mut recent = RECENT.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= KEEP {
            recent.pop_front();
        }
        recent.push_back((n, what));
    });
}

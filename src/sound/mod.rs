//! Sound in and out: the output devices (rodio, null, capture) and the
//! player thread, the monitor inputs that prove air, probing audio files,
//! typed notices spoken by espeak-ng.
//! It knows nothing of schedules' meaning, the store or the daemon's
//! state.

#[cfg(target_os = "linux")]
pub mod alsa_log;
pub mod devices;
pub mod media;
pub mod monitor;
pub mod output;
pub mod relay;
pub mod speech;

//! How a sound device is named (its id and its description), for the
//! output, the monitor and the line-in alike. Names only: it opens
//! nothing.

/// The names a device answers to: its id, then its description.
pub(crate) fn device_names(d: &rodio::Device) -> Vec<String> {
    use rodio::DeviceTrait;
    let mut v = Vec::new();
    if let Ok(id) = d.id() {
        v.push(id.to_string());
    }
    if let Ok(desc) = d.description() {
        v.push(desc.name().to_string());
    }
    v
}

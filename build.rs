//! Builds the small C shim that routes alsa-lib's error printing through
//! tracing (Linux only: elsewhere there is no ALSA).

fn main() {
    println!("cargo:rerun-if-changed=src/alsa_errors.c");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        cc::Build::new()
            .file("src/alsa_errors.c")
            .warnings(true)
            .compile("cunxiang_alsa_errors");
        println!("cargo:rustc-link-lib=asound");
    }
}

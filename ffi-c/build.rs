//! Generates the C header with cbindgen into OUT_DIR (a unit test compares it with the committed
//! `include/smartretry.h`; `SMARTRETRY_WRITE_HEADER=1` rewrites the committed one) and sets the
//! shared library's SONAME.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("version");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("version");
    let patch = env::var("CARGO_PKG_VERSION_PATCH").expect("version");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let versions = format!(
        "\n#define SMARTRETRY_VERSION_MAJOR {major}\n#define SMARTRETRY_VERSION_MINOR {minor}\n#define SMARTRETRY_VERSION_PATCH {patch}\n\
         /** (MAJOR << 16) | (MINOR << 8) | PATCH, comparable with smartretry_version_number(). */\n\
         #define SMARTRETRY_VERSION_NUMBER ((SMARTRETRY_VERSION_MAJOR << 16) | (SMARTRETRY_VERSION_MINOR << 8) | SMARTRETRY_VERSION_PATCH)\n"
    );
    let header = out_dir.join("smartretry.h");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(versions)
        .generate()
        .expect("cbindgen could not generate the header")
        .write_to_file(&header);
    if env::var_os("SMARTRETRY_WRITE_HEADER").is_some() {
        let committed = crate_dir.join("../include/smartretry.h");
        std::fs::create_dir_all(crate_dir.join("../include")).expect("include/");
        std::fs::copy(&header, committed).expect("write include/smartretry.h");
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=SMARTRETRY_WRITE_HEADER");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsmartretry.so.{major}");
}

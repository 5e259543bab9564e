//! Build script: napi-rs setup, then the V8 shim compiled against the headers of
//! the Node that will load the addon.
//!
//! The shim must see exactly the headers of that Node (object layouts differ
//! between V8 versions and with pointer compression), so the include directory
//! is resolved in this order:
//!   1. `HEAPSCOPE_NODE_INCLUDE` — a directory holding `node_version.h`;
//!   2. the prefix of `$NODE` / `$npm_node_execpath` (the Node running npm);
//!   3. `npm_config_nodedir`;
//!   4. the prefix of `node` on `PATH`.
//!
//! Cargo is told to rerun when any of these may point elsewhere, otherwise it
//! would silently reuse a shim built for another Node.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    napi_build::setup();

    for var in ["HEAPSCOPE_NODE_INCLUDE", "NODE", "npm_node_execpath", "npm_config_nodedir", "PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=src/v8/shim.cc");

    let include = match node_include_dir() {
        Ok(dir) => dir,
        Err(why) => {
            println!("cargo:warning=heapscope: {why}");
            panic!(
                "heapscope: cannot find Node's C++ headers ({why}). Set HEAPSCOPE_NODE_INCLUDE \
                 to the include/node directory of the Node that will load this addon."
            );
        }
    };
    let version_h = include.join("node_version.h");
    println!("cargo:rerun-if-changed={}", version_h.display());
    let config_gypi = include.join("config.gypi");
    println!("cargo:rerun-if-changed={}", config_gypi.display());

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("src/v8/shim.cc")
        .include(&include)
        // Node 24+ headers refuse anything older than C++20; it compiles for 20/22 too.
        .flag("-std=c++20")
        // Node is built without RTTI and exceptions: with RTTI our OutputStream
        // subclass would reference `typeinfo for v8::OutputStream`, which the
        // node binary does not export, and the addon would fail to load.
        .flag("-fno-rtti")
        .flag("-fno-exceptions")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-deprecated-declarations");
    for (define, value) in v8_defines(&config_gypi) {
        build.define(define, value);
    }
    build.compile("heapscope_v8_shim");

    let abi = node_module_version(&version_h).unwrap_or_default();
    println!("cargo:rustc-env=HEAPSCOPE_BUILT_FOR_INCLUDE={}", include.display());
    println!("cargo:rustc-env=HEAPSCOPE_BUILT_FOR_ABI={abi}");
}

fn node_include_dir() -> Result<PathBuf, String> {
    if let Some(dir) = env::var_os("HEAPSCOPE_NODE_INCLUDE") {
        let dir = PathBuf::from(dir);
        return if dir.join("node_version.h").is_file() {
            Ok(dir)
        } else {
            Err(format!("HEAPSCOPE_NODE_INCLUDE={} holds no node_version.h", dir.display()))
        };
    }
    for var in ["NODE", "npm_node_execpath"] {
        if let Some(exe) = env::var_os(var) {
            if let Some(dir) = include_beside(Path::new(&exe)) {
                return Ok(dir);
            }
        }
    }
    if let Some(nodedir) = env::var_os("npm_config_nodedir") {
        let dir = Path::new(&nodedir).join("include").join("node");
        if dir.join("node_version.h").is_file() {
            return Ok(dir);
        }
    }
    let out = Command::new("node")
        .args(["-p", "process.execPath"])
        .output()
        .map_err(|e| format!("could not run `node` from PATH: {e}"))?;
    let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
    include_beside(Path::new(&exe)).ok_or_else(|| format!("no include/node beside {exe} (the `node` on PATH)"))
}

/// `<prefix>/bin/node` → `<prefix>/include/node`, following symlinks.
fn include_beside(exe: &Path) -> Option<PathBuf> {
    let exe = fs::canonicalize(exe).ok()?;
    let dir = exe.parent()?.parent()?.join("include").join("node");
    dir.join("node_version.h").is_file().then_some(dir)
}

/// The defines node-gyp derives from `config.gypi`; without them the shim and
/// Node disagree on the layout of V8's objects.
fn v8_defines(config_gypi: &Path) -> Vec<(&'static str, Option<&'static str>)> {
    let text = fs::read_to_string(config_gypi).unwrap_or_default();
    let enabled = |key: &str| gypi_flag(&text, key);
    let mut defines = Vec::new();
    if enabled("v8_enable_pointer_compression") {
        defines.push(("V8_COMPRESS_POINTERS", Some("1")));
        defines.push(("V8_31BIT_SMIS_ON_64BIT_ARCH", Some("1")));
    }
    if enabled("v8_enable_pointer_compression_shared_cage") {
        defines.push(("V8_COMPRESS_POINTERS_IN_SHARED_CAGE", Some("1")));
    }
    if enabled("v8_enable_31bit_smis_on_64bit_arch") {
        defines.push(("V8_31BIT_SMIS_ON_64BIT_ARCH", Some("1")));
    }
    if enabled("v8_enable_sandbox") {
        defines.push(("V8_ENABLE_SANDBOX", Some("1")));
    }
    defines.dedup();
    defines
}

/// Reads `'key': 1` (Node ≤ 20 quotes with `'`) or `"key": 1` (Node ≥ 22).
fn gypi_flag(text: &str, key: &str) -> bool {
    for quote in ['\'', '"'] {
        let needle = format!("{quote}{key}{quote}");
        if let Some(at) = text.find(&needle) {
            let rest = text[at + needle.len()..].trim_start_matches([':', ' ', '\t']);
            return rest.starts_with('1') || rest.starts_with("'true'") || rest.starts_with("\"true\"");
        }
    }
    false
}

fn node_module_version(version_h: &Path) -> Option<u32> {
    let text = fs::read_to_string(version_h).ok()?;
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("#define NODE_MODULE_VERSION"))
        .find_map(|rest| rest.trim().parse().ok())
}

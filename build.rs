//! Build script: napi-rs setup only.
//!
//! The addon uses Node-API alone, so one build serves every Node major. The
//! V8 shim, which is specific to a Node major, is not built here: it is a
//! separate shared library built by `scripts/build-shim.js` with a C++
//! compiler and that Node's headers, and loaded by the addon at run time.

fn main() {
    napi_build::setup();
}

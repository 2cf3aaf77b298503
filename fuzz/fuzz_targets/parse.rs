//! Fuzzes the reply parser: any bytes must parse without panicking, and the
//! JSON, explanation and content hash must be computable.
#![no_main]

use libfuzzer_sys::fuzz_target;

use choixbot::reply::{content_hash, explain, parse, to_json, KnownPosts};

fuzz_target!(|data: &[u8]| {
    let known = KnownPosts::new(["1234", "5678", "7"]);
    let parsed = parse(data, &known);
    let _ = to_json(&parsed);
    let _ = explain(&parsed);
    let _ = content_hash(data);
});

//! The golden corpus of the reply parser: every `tests/golden/NAME.eml` is
//! parsed with LF and with CRLF line endings and compared with
//! `tests/golden/NAME.json` (the `parse-reply --json` shape of SPEC §9).
//! `tests/golden/known_ars_ids.txt` gives the known ARS numbers for all.
//! Every failing file is reported with a diff; the test does not stop at
//! the first.

use std::path::{Path, PathBuf};

use choixbot::reply::{explain, parse, to_json, KnownPosts};
use serde_json::Value;

/// The issue asks for at least this many golden messages.
const MIN_GOLDEN_FILES: usize = 80;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn known_posts(dir: &Path) -> KnownPosts {
    let path = dir.join("known_ars_ids.txt");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    KnownPosts::new(
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string),
    )
}

fn with_lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, &b) in raw.iter().enumerate() {
        if !(b == b'\r' && raw.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

fn with_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    for &b in &with_lf(raw) {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// A readable diff of two JSON objects, field by field.
fn diff(expected: &Value, actual: &Value) -> String {
    let mut keys: Vec<&String> = expected.as_object().into_iter().flat_map(|o| o.keys()).collect();
    keys.extend(actual.as_object().into_iter().flat_map(|o| o.keys()));
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| expected.get(k.as_str()) != actual.get(k.as_str()))
        .map(|k| {
            format!(
                "    {k}: expected {}, got {}\n",
                show(expected.get(k.as_str())),
                show(actual.get(k.as_str()))
            )
        })
        .collect()
}

fn show(value: Option<&Value>) -> String {
    value.map_or("(absent)".to_string(), Value::to_string)
}

/// Parses one golden file in one line-ending variant; describes a mismatch.
fn check(name: &str, variant: &str, raw: &[u8], expected: &Value, known: &KnownPosts) -> Option<String> {
    let parsed = parse(raw, known);
    let actual = to_json(&parsed);
    (actual != *expected).then(|| {
        let explanation: String = explain(&parsed).lines().map(|l| format!("    | {l}\n")).collect();
        format!("--- {name} ({variant}):\n{}  explanation:\n{explanation}", diff(expected, &actual))
    })
}

#[test]
fn golden_corpus_parses_as_expected_with_lf_and_crlf() {
    let dir = golden_dir();
    let known = known_posts(&dir);
    let mut emls: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    emls.sort();
    assert!(
        emls.len() >= MIN_GOLDEN_FILES,
        "only {} golden .eml files in {}, want {MIN_GOLDEN_FILES}",
        emls.len(),
        dir.display()
    );
    let mut failures = Vec::new();
    let mut failing_files = Vec::new();
    for eml in &emls {
        let name = eml.file_stem().unwrap().to_string_lossy().to_string();
        let json_path = eml.with_extension("json");
        let expected: Value = match std::fs::read_to_string(&json_path).map(|t| serde_json::from_str(&t)) {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("{} is not valid JSON: {e}", json_path.display()),
            Err(e) => panic!("{} has no expected result {}: {e}", eml.display(), json_path.display()),
        };
        let raw = std::fs::read(eml).unwrap_or_else(|e| panic!("cannot read {}: {e}", eml.display()));
        let before = failures.len();
        failures.extend(check(&name, "LF", &with_lf(&raw), &expected, &known));
        failures.extend(check(&name, "CRLF", &with_crlf(&raw), &expected, &known));
        if failures.len() > before {
            failing_files.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden files fail:\n{}\n\nfailing files: {}",
        failing_files.len(),
        emls.len(),
        failures.join("\n"),
        failing_files.join(", ")
    );
}

#[test]
fn line_ending_conversion_round_trips() {
    assert_eq!(with_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
    assert_eq!(with_lf(b"a\r\nb\nc\r"), b"a\nb\nc\r");
}

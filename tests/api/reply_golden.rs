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
const MIN_GOLDEN_FILES: usize = 200;

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

/// choixbot's own invitation, as the built-in template renders it, and
/// its posts.
fn own_invitation() -> (String, KnownPosts) {
    use choixbot::answer::sample::{sample_posts, sample_session};
    let known = KnownPosts::new(sample_posts().iter().map(|p| p.ars_id.as_str().to_string()));
    (crate::answer::invitation(sample_session(), false), known)
}

/// Issue 18: "2345 / 1043" above a quoted invitation read every post of
/// the invitation as a wish when its header was not recognised. Under
/// every quote shape the parser knows, and under none at all, only the
/// intern's own two numbers are read.
#[test]
fn a_reply_above_the_invitation_never_yields_a_post_of_the_invitation() {
    let (invitation, known) = own_invitation();
    let quoted: String = invitation.lines().map(|l| format!("> {l}\n")).collect();
    let shapes: &[(&str, &str)] = &[
        ("Le lun. 4 mai 2020 à 09:12, Choix <choix@asso.example> a écrit :\n\n", &quoted),
        ("On Mon, May 4, 2020 at 9:12 AM Choix <choix@asso.example> wrote:\n\n", &quoted),
        ("Am Mo., 4. Mai 2020 um 09:12 Uhr schrieb Choix <\nchoix@asso.example>:\n\n", &quoted),
        ("man. 4. mai 2020 kl. 09:12 skrev Choix <choix@asso.example\n>:\n\n", &quoted),
        ("2020-05-04 9:12 GMT+02:00 Choix <choix@asso.example>:\n\n", &quoted),
        ("04.05.2020, 09.12, \"Choix\" <choix@asso.example>:\n\n", &quoted),
        ("", &quoted),
        ("________________________________\nDe : Choix <choix@asso.example>\nEnvoyé : lundi 4 mai 2020 09:12\nÀ : moi\nObjet : Choix\n\n", &invitation),
        ("-----Message d'origine-----\nDe : Choix\n\n", &invitation),
        ("-----Ursprüngliche Nachricht-----\nVon: Choix\n\n", &invitation),
        ("-------- Oprindelig besked --------\nFra: Choix\n\n", &invitation),
        ("====\n\nMessage du : 04/05/2020 09:12\nDe : choix@asso.example\n\n", &invitation),
        ("---------- Forwarded message ---------\nFrom: Choix\n\n", &invitation),
        ("Le lundi 4 mai 2020 à 09:12:33 UTC+2, Choix <c@a.fr> a écrit :\n\n", &invitation),
        ("", &invitation),
    ];
    for (header, original) in shapes {
        let body = format!("9012 / 1234\n\n{header}{original}");
        let raw = format!("From: zoe@exemple.fr\r\nTo: choix@asso.example\r\nSubject: Re: choix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}");
        let parsed = parse(raw.as_bytes(), &known);
        let choices: Vec<&str> = parsed.choices.iter().map(|c| c.as_str()).collect();
        assert_eq!(choices, ["9012", "1234"], "under {header:?}:\n{}", explain(&parsed));
        assert!(parsed.invalid.is_empty(), "under {header:?}: {:?}", parsed.invalid);
    }
}

//! Writes a large synthetic session (posts, call list, pre-choices) in the
//! import format, for benchmarks and load tests by hand:
//!
//! ```text
//! cargo run --example generate_session -- DIR [--interns 10000] [--places 12000] [--groups 30] [--seed 1]
//! ```
//!
//! then `choixbot import posts DIR/posts.csv`, and so on.

use std::path::PathBuf;

use anyhow::{bail, Context};

/// The command line: the output directory and the shape of the session.
struct Args {
    /// Where the three CSV files go (created if missing).
    dir: PathBuf,
    /// How many interns.
    interns: usize,
    /// How many places in all.
    places: usize,
    /// How many groups (DES).
    groups: usize,
    /// The seed: the same seed gives the same files.
    seed: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args { dir: PathBuf::new(), interns: 10_000, places: 12_000, groups: 30, seed: 1 };
    let mut dir = None;
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| -> anyhow::Result<u64> {
            let text = argv.next().with_context(|| format!("{name} needs a value"))?;
            text.parse().with_context(|| format!("{name} {text:?} is not a whole number"))
        };
        match arg.as_str() {
            "--interns" => args.interns = value("--interns")? as usize,
            "--places" => args.places = value("--places")? as usize,
            "--groups" => args.groups = value("--groups")? as usize,
            "--seed" => args.seed = value("--seed")?,
            other if other.starts_with("--") => bail!("unknown option {other}"),
            other if dir.is_none() => dir = Some(PathBuf::from(other)),
            other => bail!("unexpected argument {other:?}"),
        }
    }
    args.dir = dir
        .context("usage: generate_session DIR [--interns 10000] [--places 12000] [--groups 30] [--seed 1]")?;
    Ok(args)
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    let session = choixbot::synthetic::session(args.interns, args.places, args.groups, args.seed);
    session.write_csv(&args.dir)?;
    println!(
        "{} posts, {} interns ({} with wishes) written to {}",
        session.posts.len(),
        session.interns.len(),
        session.wishes.len(),
        args.dir.display()
    );
    Ok(())
}

//! The command line of SPEC §9.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "choixbot", version, about)]
pub struct Cli {}

pub fn run(cli: Cli) -> crate::Result<()> {
    let _ = cli;
    Ok(())
}

//! `hyphae yuma`: run Yuma Consensus offline, to check a chain's numbers or try weight policies.
//!
//! `epoch` is the JSON contract of `docs`' yuma-io spec: one input document in, one output
//! document out, always JSON. `simulate` plays a scenario file through many epochs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hyphae_yuma::simulate::{self, EpochRecord, Scenario};
use hyphae_yuma::{EpochInput, EpochOutput};

use crate::output::{print_json, OutputFormat};

/// Yuma Consensus commands.
#[derive(Debug, clap::Subcommand)]
pub enum YumaCommand {
    /// Run one epoch on an input document and print the output document (always JSON).
    Epoch {
        /// The input JSON file, or `-` for stdin.
        #[arg(long)]
        input: String,
    },
    /// Play a simulation scenario and print each epoch's results.
    Simulate {
        /// The scenario JSON file (see crates/yuma/scenarios/cabal.json).
        #[arg(long)]
        scenario: PathBuf,
    },
}

impl YumaCommand {
    /// Run the command, printing results on stdout.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        match self {
            Self::Epoch { input } => run_epoch(&input),
            Self::Simulate { scenario } => run_simulation(&scenario, output),
        }
    }
}

fn run_epoch(source: &str) -> anyhow::Result<()> {
    let text = read_source(source)?;
    let input: EpochInput =
        serde_json::from_str(&text).with_context(|| format!("parsing the epoch input {source}"))?;
    let output: EpochOutput = hyphae_yuma::epoch(&input).context("invalid epoch input")?;
    print_json(&output)
}

/// The whole of a file, or of stdin for `-`.
fn read_source(source: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    if source == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the epoch input from stdin")?;
    } else {
        text = std::fs::read_to_string(source).with_context(|| format!("reading {source}"))?;
    }
    Ok(text)
}

fn run_simulation(path: &Path, output: OutputFormat) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let scenario: Scenario = serde_json::from_str(&text)
        .with_context(|| format!("parsing the scenario {}", path.display()))?;
    let records = simulate::run(&scenario).context("invalid scenario")?;
    match output {
        OutputFormat::Json => print_json(&records),
        OutputFormat::Text => print_simulation(&scenario, &records),
    }
}

/// A one-line summary per epoch, then the full table of the last epoch.
///
/// Miners whose quality is 0 are "useless": any incentive they earn is what a cabal extracted.
fn print_simulation(scenario: &Scenario, records: &[EpochRecord]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let n_validators = scenario.validators.len();
    let useless: Vec<usize> = scenario
        .miners
        .iter()
        .enumerate()
        .filter(|(_, miner)| miner.quality == 0)
        .map(|(index, _)| n_validators.saturating_add(index))
        .collect();
    writeln!(
        out,
        "{:>5}  {:>7}  {:>24}  {:>22}",
        "epoch", "block", "useless miners' incentive", "top miner (incentive)"
    )?;
    for record in records {
        let useless_share = simulate::incentive_of(&record.output, useless.iter().copied());
        let top = record
            .output
            .neurons
            .iter()
            .enumerate()
            .skip(n_validators)
            .max_by_key(|(uid, neuron)| (neuron.incentive, std::cmp::Reverse(*uid)));
        let top = top.map_or_else(
            || "-".to_owned(),
            |(uid, neuron)| format!("uid {uid} ({})", percent(neuron.incentive)),
        );
        let share = percent(u16::try_from(useless_share).unwrap_or(u16::MAX));
        writeln!(
            out,
            "{:>5}  {:>7}  {:>24}  {:>22}",
            record.epoch, record.block, share, top
        )?;
    }
    if let Some(last) = records.last() {
        writeln!(out)?;
        print_table(&mut out, last, n_validators)?;
    }
    Ok(())
}

/// One epoch as a table: u16 proportions as percentages, emission in rao.
fn print_table(
    out: &mut impl Write,
    record: &EpochRecord,
    n_validators: usize,
) -> std::io::Result<()> {
    writeln!(out, "epoch {} (block {})", record.epoch, record.block)?;
    writeln!(
        out,
        "{:>5}  {:<9}  {:>7}  {:>9}  {:>9}  {:>9}  {:>6}  {:>12}",
        "uid", "role", "stake", "consensus", "incentive", "dividends", "permit", "emission"
    )?;
    for (uid, neuron) in record.output.neurons.iter().enumerate() {
        let role = if uid < n_validators {
            "validator"
        } else {
            "miner"
        };
        writeln!(
            out,
            "{:>5}  {:<9}  {:>7}  {:>9}  {:>9}  {:>9}  {:>6}  {:>12}",
            uid,
            role,
            percent(neuron.stake_weight),
            percent(neuron.consensus),
            percent(neuron.incentive),
            percent(neuron.dividends),
            if neuron.validator_permit { "yes" } else { "no" },
            neuron.emission,
        )?;
    }
    Ok(())
}

/// A u16 proportion as a percentage with two decimals, in integer arithmetic.
fn percent(value: u16) -> String {
    let hundredths = u32::from(value).saturating_mul(10_000) / 65_535;
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

//! Command-line interface: `run`, `render`, `analyze`, `eval`, `bench`, `presets`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::audio::decode_file;
use crate::offline::analyze::{TableFormat, analyze_clip, write_result};
use crate::offline::dataset;

/// sonolux: audio-reactive visuals that hit on the beat.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to do; with none, runs the live show on the bundled demo track.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output format of the feature table.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values.
    Csv,
    /// JSON array.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse an audio file: onsets, beats, tempo and a feature table.
    Analyze {
        /// Audio file (wav, flac, mp3, ogg).
        file: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Feature table format.
        #[arg(long, value_enum, default_value = "csv")]
        format: FormatArg,
        /// Samples per block fed to the streaming analyser.
        #[arg(long, default_value_t = 512)]
        block: usize,
        /// Seconds between rows of the feature table.
        #[arg(long, default_value_t = 0.01)]
        step: f64,
    },
    /// Score the analysis on every annotated clip of a folder.
    Eval {
        /// Folder with `<id>.flac` and `<id>.onsets/.beats/.bpm` annotations.
        #[arg(long)]
        data: PathBuf,
        /// Also write each clip's result files here (for peer_eval.py --ours).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Samples per block.
        #[arg(long, default_value_t = 512)]
        block: usize,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Analyze {
            file,
            out,
            format,
            block,
            step,
        }) => {
            let clip = decode_file(&file)?;
            let res = analyze_clip(&clip, block, step);
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "audio".into());
            let format = match format {
                FormatArg::Csv => TableFormat::Csv,
                FormatArg::Json => TableFormat::Json,
            };
            write_result(&out, &name, &res, format)
                .with_context(|| format!("writing results to {}", out.display()))?;
            println!(
                "{name}: {:.1} s, {} onsets, {} beats, {:.1} BPM -> {}",
                clip.duration(),
                res.onsets.len(),
                res.beats.len(),
                res.bpm,
                out.display()
            );
            Ok(())
        }
        Some(Command::Eval { data, out, block }) => {
            let scores = dataset::evaluate_dir(&data, out.as_deref(), block)?;
            print!("{}", dataset::format_table(&scores));
            Ok(())
        }
        None => anyhow::bail!("the live show is not built yet"),
    }
}

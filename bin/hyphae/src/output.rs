//! How commands print: text for people, JSON for scripts, and errors mapped to exit codes.

use std::{io::Write, process::ExitCode};

/// The `--output` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// One JSON document on stdout, with a stable schema.
    Json,
}

/// A failure caused by the user's input rather than by hyphae: exit code 1.
///
/// Commands wrap errors in this (via [`user_error`]) when the fix is on the user's side.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// Shorthand for a [`UserError`] as an `anyhow::Error`.
pub fn user_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(message.into()))
}

/// Print a serialisable value as JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string(value)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// Print the error chain on stderr (and as JSON on stdout with `--output json`); pick the exit code.
pub fn report_error(err: &anyhow::Error, format: OutputFormat) -> ExitCode {
    // `hyphae … | head` closes stdout early: that is the reader's choice, not a failure.
    let broken_pipe = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let is_user = err
        .chain()
        .any(|cause| cause.downcast_ref::<UserError>().is_some())
        || err.chain().any(is_user_cause);
    let message = format!("{err:#}");
    if format == OutputFormat::Json {
        let doc = serde_json::json!({ "error": message, "kind": if is_user { "user" } else { "internal" } });
        println!("{doc}");
    }
    eprintln!("error: {message}");
    if is_user {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

/// Errors from libraries that are the user's to fix: bad keys, bad files, bad input.
fn is_user_cause(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause.downcast_ref::<hyphae_keys::KeyError>().is_some()
        || cause
            .downcast_ref::<hyphae_primitives::Ss58Error>()
            .is_some()
        || cause
            .downcast_ref::<hyphae_primitives::ParseRaoError>()
            .is_some()
        || cause.downcast_ref::<std::io::Error>().is_some()
        || cause.downcast_ref::<serde_json::Error>().is_some()
        || cause.downcast_ref::<hyphae_yuma::YumaError>().is_some()
}

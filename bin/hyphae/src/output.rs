//! How commands print: text for people, JSON for scripts, and errors mapped to exit codes.
//!
//! Everything on stdout goes through [`print_json`] or [`outln!`], which return the write error
//! instead of panicking as `println!` does: `hyphae … | head` closes stdout early, and that is
//! the reader's choice, not a crash.

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

/// An error raised after the command already printed its JSON result (`wallet verify`'s
/// `{"valid":false}`): [`report_error`] then writes only to stderr, so `--output json` stays
/// one document. The message and exit code are fixed when it is made.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AfterResult {
    message: String,
    user: bool,
}

/// Wraps `err` as an [`AfterResult`], keeping its message and exit code.
pub fn after_result(err: anyhow::Error) -> anyhow::Error {
    let (message, user) = describe(&err);
    anyhow::Error::new(AfterResult { message, user })
}

/// `println!` that returns an `io::Result` instead of panicking when stdout is closed.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use outln;

/// `eprintln!` that ignores a closed stderr rather than panicking: stderr only informs, and
/// `hyphae … 2>&1 | head` closes it together with stdout.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use errln;

/// Writes `text` to stdout in one call and flushes it, so a failure is seen here.
pub fn print_text(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Print a serialisable value as JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string(value)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
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
    let (message, is_user) = describe(err);
    if format == OutputFormat::Json && err.downcast_ref::<AfterResult>().is_none() {
        print_error_json(&message, is_user);
    }
    errln!("error: {message}");
    exit_code(is_user)
}

/// The `{"error","kind"}` document. Failing to write it changes nothing: the exit code and
/// stderr still tell what happened.
pub fn print_error_json(message: &str, is_user: bool) {
    let kind = if is_user { "user" } else { "internal" };
    let doc = serde_json::json!({ "error": message, "kind": kind });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{doc}").and_then(|()| out.flush());
}

/// Exit code 1 for a user error, 2 for an internal one.
pub fn exit_code(is_user: bool) -> ExitCode {
    ExitCode::from(if is_user { 1 } else { 2 })
}

/// The message to show (the whole chain) and whether the user can fix it.
fn describe(err: &anyhow::Error) -> (String, bool) {
    if let Some(after) = err.downcast_ref::<AfterResult>() {
        return (after.message.clone(), after.user);
    }
    let is_user = err
        .chain()
        .any(|cause| cause.downcast_ref::<UserError>().is_some())
        || err.chain().any(is_user_cause);
    (format!("{err:#}"), is_user)
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

//! Reading secrets (passwords, mnemonics) from files or stdin: bounded, and held in memory that
//! is wiped on drop.

use std::{io::Read, path::Path};

use anyhow::Context;
use zeroize::Zeroizing;

use crate::output::user_error;

/// The most a password or mnemonic file may hold. A 24-word mnemonic is under 250 bytes; the
/// cap keeps `--password-file /dev/zero` from eating memory.
pub const SECRET_FILE_MAX: usize = 4096;

/// Where a secret file is read from: a path, or stdin for `-` where that is allowed.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A file; `-` is a file named `-`.
    File(&'a Path),
    /// A file, or stdin when the path is `-`.
    FileOrStdin(&'a Path),
}

/// The whole of a secret file (at most [`SECRET_FILE_MAX`] bytes) as UTF-8 text. `what` names
/// the flag in errors, e.g. `"--password-file"`; the contents never appear in them.
pub fn read(source: Source<'_>, what: &str) -> anyhow::Result<Zeroizing<String>> {
    let (path, stdin) = match source {
        Source::File(path) => (path, false),
        Source::FileOrStdin(path) => (path, path == Path::new("-")),
    };
    let shown = path.display();
    let bytes = if stdin {
        read_bounded(std::io::stdin().lock(), what)
            .with_context(|| format!("reading {what} from stdin"))?
    } else {
        let file = std::fs::File::open(path).with_context(|| format!("reading {what} {shown}"))?;
        read_bounded(file, what).with_context(|| format!("reading {what} {shown}"))?
    };
    // Checked in place: a failed `String::from_utf8` would drop its copy unwiped.
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| user_error(format!("{what} {shown} is not UTF-8 text")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// The first line of a secret file, without its line ending.
pub fn first_line(source: Source<'_>, what: &str) -> anyhow::Result<Zeroizing<String>> {
    let text = read(source, what)?;
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or_default().to_owned(),
    ))
}

/// Reads at most [`SECRET_FILE_MAX`] bytes, into a buffer allocated once so that no unwiped
/// copy is left behind by a reallocation.
fn read_bounded(reader: impl Read, what: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let limit = SECRET_FILE_MAX.saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(limit));
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)?;
    if bytes.len() > SECRET_FILE_MAX {
        return Err(user_error(format!(
            "{what} holds more than {SECRET_FILE_MAX} bytes; it should hold only the secret"
        )));
    }
    Ok(bytes)
}

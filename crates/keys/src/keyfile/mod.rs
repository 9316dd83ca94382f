//! Bittensor keyfiles: the JSON payload, its `$NACL` encryption, and crash-safe file writes.
//!
//! A keyfile's format is told by its first bytes:
//!
//! * `$NACL`: encrypted, see [`encrypt_nacl`] and [`decrypt_nacl`];
//! * `$ANSIBLE_VAULT` and `gAAAAA` (Fernet): older encryptions, recognised but refused with
//!   [`KeyError::UnsupportedFormat`];
//! * anything else: the plaintext JSON of [`KeyfileData`].
//!
//! Files are written with mode 0600 (directories 0700) through a temporary file in the same
//! directory that is synced and then renamed, so a crash never leaves half a keyfile.

mod data;
mod nacl;

pub use data::{KeyfileData, CRYPTO_TYPE_SR25519};
pub use nacl::{
    decrypt_nacl, encrypt_nacl, ARGON2_MEMORY_KIB, ARGON2_PASSES, NACL_PREFIX, NACL_SALT,
};

use crate::KeyError;
use rand_core::{OsRng, RngCore};
use std::{
    fs,
    io::{self, Read, Write},
    path::{Path, PathBuf},
};
use zeroize::Zeroizing;

/// Largest keyfile read; real ones are under 1 KiB.
pub const KEYFILE_LEN_MAX: u64 = 1 << 20;
const ANSIBLE_VAULT_PREFIX: &[u8] = b"$ANSIBLE_VAULT";
const FERNET_PREFIX: &[u8] = b"gAAAAA";

/// How a keyfile's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyfileFormat {
    /// Plaintext JSON.
    Plaintext,
    /// `$NACL`: Argon2i + XSalsa20-Poly1305 (the current default for coldkeys).
    Nacl,
    /// `$ANSIBLE_VAULT`: legacy, unsupported.
    AnsibleVault,
    /// Fernet (`gAAAAA…`): oldest, unsupported.
    Fernet,
}

impl KeyfileFormat {
    /// Tells the format from the first bytes of a file.
    pub fn detect(bytes: &[u8]) -> Self {
        if bytes.starts_with(NACL_PREFIX) {
            Self::Nacl
        } else if bytes.starts_with(ANSIBLE_VAULT_PREFIX) {
            Self::AnsibleVault
        } else if bytes.starts_with(FERNET_PREFIX) {
            Self::Fernet
        } else {
            Self::Plaintext
        }
    }

    /// Whether the format is an encryption (supported or not).
    pub const fn is_encrypted(self) -> bool {
        !matches!(self, Self::Plaintext)
    }
}

/// Whether keyfile bytes are encrypted, in any of the recognised formats.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    KeyfileFormat::detect(bytes).is_encrypted()
}

/// Decrypts (when `$NACL`) and parses keyfile bytes.
///
/// A `$NACL` file without a password is [`KeyError::PasswordRequired`]; a password given for a
/// plaintext file is ignored. Errors have an empty `path`: see [`KeyError::at_path`].
pub fn decode(bytes: &[u8], password: Option<&str>) -> Result<KeyfileData, KeyError> {
    match KeyfileFormat::detect(bytes) {
        KeyfileFormat::Plaintext => KeyfileData::from_json(bytes),
        KeyfileFormat::Nacl => match password {
            Some(password) => KeyfileData::from_json(&decrypt_nacl(bytes, password)?),
            None => Err(KeyError::PasswordRequired {
                path: PathBuf::new(),
            }),
        },
        KeyfileFormat::AnsibleVault => Err(KeyError::UnsupportedFormat {
            format: "Ansible Vault",
            path: PathBuf::new(),
        }),
        KeyfileFormat::Fernet => Err(KeyError::UnsupportedFormat {
            format: "Fernet",
            path: PathBuf::new(),
        }),
    }
}

/// Serialises keyfile data, encrypting it with `$NACL` when a password is given.
pub fn encode(data: &KeyfileData, password: Option<&str>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let json = data.to_json()?;
    match password {
        Some(password) => Ok(Zeroizing::new(encrypt_nacl(&json, password)?)),
        None => Ok(json),
    }
}

/// Reads and decodes the keyfile at `path`.
pub fn load(path: &Path, password: Option<&str>) -> Result<KeyfileData, KeyError> {
    let bytes = read(path)?;
    decode(&bytes, password).map_err(|err| err.at_path(path))
}

/// Encodes and writes a keyfile; see [`write()`].
pub fn save(
    path: &Path,
    data: &KeyfileData,
    password: Option<&str>,
    overwrite: bool,
) -> Result<(), KeyError> {
    if !overwrite && exists(path)? {
        return Err(KeyError::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let bytes = encode(data, password)?;
    write(path, &bytes, overwrite)
}

/// Reads a keyfile's raw bytes (at most [`KEYFILE_LEN_MAX`]) into memory zeroized on drop.
pub fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let file = fs::File::open(path).map_err(|err| KeyError::io(path, err))?;
    let len = file
        .metadata()
        .map_err(|err| KeyError::io(path, err))?
        .len();
    if len > KEYFILE_LEN_MAX {
        return Err(KeyError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("{len} bytes; a keyfile is at most {KEYFILE_LEN_MAX}"),
        });
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        usize::try_from(len).unwrap_or(0).saturating_add(1),
    ));
    file.take(KEYFILE_LEN_MAX)
        .read_to_end(&mut bytes)
        .map_err(|err| KeyError::io(path, err))?;
    Ok(bytes)
}

/// Whether anything (file, directory, link) exists at `path`.
pub fn exists(path: &Path) -> Result<bool, KeyError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(KeyError::io(path, err)),
    }
}

/// Writes `contents` to `path` atomically with mode 0600, creating parent directories (0700).
///
/// The bytes go to a temporary file in the same directory, which is synced and then moved into
/// place, so readers see the old file or the new one, never a mix. Without `overwrite`, an
/// existing `path` is [`KeyError::AlreadyExists`] and is left untouched.
pub fn write(path: &Path, contents: &[u8], overwrite: bool) -> Result<(), KeyError> {
    stage(path, contents, overwrite)?.publish()
}

/// A keyfile's bytes, synced to a hidden temporary file beside `path` but not yet at `path`.
///
/// [`StagedFile::publish`] moves it into place; dropping it instead removes the temporary
/// file. Staging first lets a caller do everything that can fail (encryption, disk space, a
/// key that cannot be shown to its owner) before any file a user sees changes.
#[derive(Debug)]
pub struct StagedFile {
    temp: PathBuf,
    path: PathBuf,
    overwrite: bool,
    published: bool,
}

/// Writes `contents` to a synced temporary file (mode 0600) beside `path`, creating parent
/// directories (0700). Without `overwrite`, an existing `path` is [`KeyError::AlreadyExists`].
pub fn stage(path: &Path, contents: &[u8], overwrite: bool) -> Result<StagedFile, KeyError> {
    let dir = parent_dir(path);
    let file_name = path.file_name().ok_or_else(|| {
        KeyError::io(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a keyfile path must name a file",
            ),
        )
    })?;
    create_private_dir(dir)?;
    if !overwrite && exists(path)? {
        return Err(KeyError::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let mut suffix = [0u8; 8];
    OsRng
        .try_fill_bytes(&mut suffix)
        .map_err(|err| KeyError::io(path, io::Error::other(err.to_string())))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".tmp-{}", hex::encode(suffix)));
    let staged = StagedFile {
        temp: dir.join(temp_name),
        path: path.to_path_buf(),
        overwrite,
        published: false,
    };
    // On failure `staged` is dropped, which removes the partial temporary file.
    write_synced(&staged.temp, contents)?;
    Ok(staged)
}

impl StagedFile {
    /// Where the file will be published.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the staged file to its path. Without `overwrite`, a file that appeared there since
    /// staging is [`KeyError::AlreadyExists`] and is left as it is.
    pub fn publish(mut self) -> Result<(), KeyError> {
        publish(&self.temp, &self.path, self.overwrite)?;
        self.published = true;
        sync_dir(parent_dir(&self.path))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.published {
            // Best effort: the temporary file holds secrets and must not linger.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn write_synced(temp_path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(temp_path)
        .map_err(|err| KeyError::io(temp_path, err))?;
    file.write_all(contents)
        .map_err(|err| KeyError::io(temp_path, err))?;
    file.sync_all().map_err(|err| KeyError::io(temp_path, err))
}

/// Moves the synced temporary file to `path`. Without `overwrite` a hard link is made first,
/// which fails rather than replace a file that appeared meanwhile.
fn publish(temp_path: &Path, path: &Path, overwrite: bool) -> Result<(), KeyError> {
    if !overwrite {
        match fs::hard_link(temp_path, path) {
            Ok(()) => {
                // The key is in place, so this is success either way; a leftover link is a
                // 0600 copy of the same bytes in the same directory.
                let _ = fs::remove_file(temp_path);
                return Ok(());
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(KeyError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
            // A file system without hard links: fall back to rename after the earlier check.
            Err(_) => {}
        }
    }
    fs::rename(temp_path, path).map_err(|err| KeyError::io(path, err))
}

/// Creates `dir` and its missing parents with mode 0700; existing directories are left as they are.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|err| KeyError::io(dir, err))
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(|err| KeyError::io(dir, err))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

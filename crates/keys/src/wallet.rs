//! [`Wallet`]: the Bittensor on-disk wallet layout.
//!
//! ```text
//! <root>/<wallet>/coldkey                   full keyfile, normally $NACL-encrypted
//! <root>/<wallet>/coldkeypub.txt            public-only keyfile, never encrypted
//! <root>/<wallet>/hotkeys/<hotkey>          full keyfile, normally plaintext
//! <root>/<wallet>/hotkeys/<hotkey>pub.txt   public-only keyfile
//! ```

use crate::{
    keyfile::{self, KeyfileData, StagedFile},
    KeyError, Keypair, Mnemonic,
};
use hyphae_primitives::AccountId;
use std::{
    collections::BTreeSet,
    fs, io,
    path::{Path, PathBuf},
};

const COLDKEY_FILE: &str = "coldkey";
const COLDKEYPUB_FILE: &str = "coldkeypub.txt";
const HOTKEYS_DIR: &str = "hotkeys";
const PUB_SUFFIX: &str = "pub.txt";
/// Longest wallet or hotkey name: a common file-name limit.
const NAME_LEN_MAX: usize = 255;

/// A named wallet under a root directory (by default `~/.bittensor/wallets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    root: PathBuf,
    name: String,
}

impl Wallet {
    /// A wallet handle; nothing is read or created yet.
    /// Names that are empty, hidden, or could leave the root are [`KeyError::InvalidName`].
    pub fn new(root: impl Into<PathBuf>, name: &str) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(Self {
            root: root.into(),
            name: name.to_owned(),
        })
    }

    /// The root directory holding all wallets.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `<root>/<name>`.
    pub fn path(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// `<root>/<name>/coldkey`.
    pub fn coldkey_path(&self) -> PathBuf {
        self.path().join(COLDKEY_FILE)
    }

    /// `<root>/<name>/coldkeypub.txt`.
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.path().join(COLDKEYPUB_FILE)
    }

    /// `<root>/<name>/hotkeys`.
    pub fn hotkeys_dir(&self) -> PathBuf {
        self.path().join(HOTKEYS_DIR)
    }

    /// `<root>/<name>/hotkeys/<hotkey>`. The name is not checked here; the methods that
    /// read or write check it.
    pub fn hotkey_path(&self, hotkey: &str) -> PathBuf {
        self.hotkeys_dir().join(hotkey)
    }

    /// `<root>/<name>/hotkeys/<hotkey>pub.txt`.
    pub fn hotkeypub_path(&self, hotkey: &str) -> PathBuf {
        self.hotkeys_dir().join(format!("{hotkey}{PUB_SUFFIX}"))
    }

    /// Writes the coldkey (encrypted with `$NACL` when `password` is given) and `coldkeypub.txt`.
    ///
    /// Without `overwrite`, an existing coldkey, or a `coldkeypub.txt` for another key, is
    /// [`KeyError::AlreadyExists`] and nothing is written.
    pub fn write_coldkey(
        &self,
        keypair: &Keypair,
        mnemonic: Option<&Mnemonic>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(), KeyError> {
        self.stage_coldkey(keypair, mnemonic, password, overwrite)?
            .publish()
    }

    /// Writes a hotkey (encrypted when `password` is given) and its `<hotkey>pub.txt`;
    /// `overwrite` as for [`Wallet::write_coldkey`].
    pub fn write_hotkey(
        &self,
        hotkey: &str,
        keypair: &Keypair,
        mnemonic: Option<&Mnemonic>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(), KeyError> {
        self.stage_hotkey(hotkey, keypair, mnemonic, password, overwrite)?
            .publish()
    }

    /// [`Wallet::write_coldkey`] up to the last step: both files are encoded and synced to
    /// temporary files, and appear only on [`StagedKeyPair::publish`].
    pub fn stage_coldkey(
        &self,
        keypair: &Keypair,
        mnemonic: Option<&Mnemonic>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<StagedKeyPair, KeyError> {
        stage_key_pair(
            &self.coldkey_path(),
            &self.coldkeypub_path(),
            keypair,
            mnemonic,
            password,
            overwrite,
        )
    }

    /// [`Wallet::write_hotkey`] up to the last step, as [`Wallet::stage_coldkey`].
    pub fn stage_hotkey(
        &self,
        hotkey: &str,
        keypair: &Keypair,
        mnemonic: Option<&Mnemonic>,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<StagedKeyPair, KeyError> {
        check_name(hotkey)?;
        stage_key_pair(
            &self.hotkey_path(hotkey),
            &self.hotkeypub_path(hotkey),
            keypair,
            mnemonic,
            password,
            overwrite,
        )
    }

    /// Whether a coldkey for `account` may be written without `overwrite`: no coldkey yet, and
    /// no `coldkeypub.txt` for another key. Lets a caller refuse before asking for a password.
    pub fn check_new_coldkey(&self, account: &AccountId) -> Result<(), KeyError> {
        check_free(&self.coldkey_path(), &self.coldkeypub_path(), account)
    }

    /// As [`Wallet::check_new_coldkey`], for the hotkey `hotkey`.
    pub fn check_new_hotkey(&self, hotkey: &str, account: &AccountId) -> Result<(), KeyError> {
        check_name(hotkey)?;
        check_free(
            &self.hotkey_path(hotkey),
            &self.hotkeypub_path(hotkey),
            account,
        )
    }

    /// Writes only `coldkeypub.txt` (a watch-only wallet).
    pub fn write_coldkeypub(&self, account: &AccountId, overwrite: bool) -> Result<(), KeyError> {
        keyfile::save(
            &self.coldkeypub_path(),
            &KeyfileData::public(account),
            None,
            overwrite,
        )
    }

    /// The coldkey's account id, from `coldkeypub.txt`.
    pub fn coldkeypub(&self) -> Result<AccountId, KeyError> {
        read_account_id(&self.coldkeypub_path())
    }

    /// A hotkey's account id, from `<hotkey>pub.txt`, else from the hotkey file when it is
    /// plaintext.
    pub fn hotkeypub(&self, hotkey: &str) -> Result<AccountId, KeyError> {
        check_name(hotkey)?;
        let pub_path = self.hotkeypub_path(hotkey);
        if keyfile::exists(&pub_path)? {
            read_account_id(&pub_path)
        } else {
            read_account_id(&self.hotkey_path(hotkey))
        }
    }

    /// Whether the coldkey file is encrypted (in any recognised format).
    pub fn coldkey_is_encrypted(&self) -> Result<bool, KeyError> {
        Ok(keyfile::is_encrypted(&keyfile::read(&self.coldkey_path())?))
    }

    /// Whether a hotkey file is encrypted (in any recognised format).
    pub fn hotkey_is_encrypted(&self, hotkey: &str) -> Result<bool, KeyError> {
        check_name(hotkey)?;
        Ok(keyfile::is_encrypted(&keyfile::read(
            &self.hotkey_path(hotkey),
        )?))
    }

    /// Loads the coldkey. An encrypted one without a password is [`KeyError::PasswordRequired`].
    pub fn coldkey(&self, password: Option<&str>) -> Result<Keypair, KeyError> {
        read_keypair(&self.coldkey_path(), password)
    }

    /// Loads a hotkey; `password` as for [`Wallet::coldkey`].
    pub fn hotkey(&self, hotkey: &str, password: Option<&str>) -> Result<Keypair, KeyError> {
        check_name(hotkey)?;
        read_keypair(&self.hotkey_path(hotkey), password)
    }

    /// The wallet's hotkey names, sorted: every hotkey file, and every `<hotkey>pub.txt`.
    /// A wallet without a `hotkeys` directory has none.
    pub fn hotkey_names(&self) -> Result<Vec<String>, KeyError> {
        let mut names = BTreeSet::new();
        for (file_name, is_file) in list_dir(&self.hotkeys_dir())? {
            if !is_file {
                continue;
            }
            let name = file_name.strip_suffix(PUB_SUFFIX).unwrap_or(&file_name);
            if check_name(name).is_ok() {
                names.insert(name.to_owned());
            }
        }
        Ok(names.into_iter().collect())
    }
}

/// The sorted names of the wallets (directories) under `root`; none when `root` is missing.
pub fn list_wallets(root: &Path) -> Result<Vec<String>, KeyError> {
    let mut names: Vec<String> = list_dir(root)?
        .into_iter()
        .filter(|(name, is_file)| !is_file && check_name(name).is_ok())
        .map(|(name, _)| name)
        .collect();
    names.sort();
    Ok(names)
}

/// `(name, is_file)` for each UTF-8-named entry of `dir` (links followed); empty when `dir`
/// does not exist.
fn list_dir(dir: &Path) -> Result<Vec<(String, bool)>, KeyError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(KeyError::io(dir, err)),
    };
    let mut listed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| KeyError::io(dir, err))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(metadata) = fs::metadata(entry.path()) else {
            continue; // a dangling link
        };
        if metadata.is_file() || metadata.is_dir() {
            listed.push((name, metadata.is_file()));
        }
    }
    Ok(listed)
}

fn check_name(name: &str) -> Result<(), KeyError> {
    let invalid = |reason| {
        Err(KeyError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        invalid("the name is empty")
    } else if name.len() > NAME_LEN_MAX {
        invalid("the name is longer than 255 bytes")
    } else if name.contains(['/', '\\', '\0']) {
        invalid("the name contains a path separator or NUL")
    } else if name.starts_with('.') {
        invalid("the name starts with '.'")
    } else {
        Ok(())
    }
}

/// A key file and its public file, staged (see [`keyfile::StagedFile`]) and not yet visible.
#[derive(Debug)]
pub struct StagedKeyPair {
    key: StagedFile,
    public: StagedFile,
}

impl StagedKeyPair {
    /// The key file's path.
    pub fn key_path(&self) -> &Path {
        self.key.path()
    }

    /// Moves the key file, then its public file, into place. When the key was a new file and
    /// the public file cannot follow, the key is removed again, so a failure leaves no key
    /// without its public file.
    pub fn publish(self) -> Result<(), KeyError> {
        let Self { key, public } = self;
        let key_path = key.path().to_path_buf();
        let key_was_new = !keyfile::exists(&key_path)?;
        key.publish()?;
        public.publish().inspect_err(|_| {
            if key_was_new {
                // Best effort: the error that matters is the one returned.
                let _ = fs::remove_file(&key_path);
            }
        })
    }
}

/// The checks a write without `overwrite` makes before writing anything.
fn check_free(key_path: &Path, pub_path: &Path, account: &AccountId) -> Result<(), KeyError> {
    if keyfile::exists(key_path)? {
        return Err(KeyError::AlreadyExists {
            path: key_path.to_path_buf(),
        });
    }
    // A public file for this very key (left by an earlier regen) may be rewritten.
    if keyfile::exists(pub_path)? && read_account_id(pub_path).ok().as_ref() != Some(account) {
        return Err(KeyError::AlreadyExists {
            path: pub_path.to_path_buf(),
        });
    }
    Ok(())
}

fn stage_key_pair(
    key_path: &Path,
    pub_path: &Path,
    keypair: &Keypair,
    mnemonic: Option<&Mnemonic>,
    password: Option<&str>,
    overwrite: bool,
) -> Result<StagedKeyPair, KeyError> {
    let account = keypair.account_id();
    if !overwrite {
        check_free(key_path, pub_path, &account)?;
    }
    // Encode both first (encryption takes seconds and may fail) so that a failure writes nothing.
    let key_bytes = keyfile::encode(&KeyfileData::from_keypair(keypair, mnemonic)?, password)?;
    let pub_bytes = keyfile::encode(&KeyfileData::public(&account), None)?;
    Ok(StagedKeyPair {
        key: keyfile::stage(key_path, &key_bytes, overwrite)?,
        public: keyfile::stage(pub_path, &pub_bytes, true)?,
    })
}

fn read_account_id(path: &Path) -> Result<AccountId, KeyError> {
    keyfile::load(path, None)?
        .account_id()
        .map_err(|err| err.at_path(path))
}

fn read_keypair(path: &Path, password: Option<&str>) -> Result<Keypair, KeyError> {
    keyfile::load(path, password)?
        .keypair()
        .map_err(|err| err.at_path(path))
}

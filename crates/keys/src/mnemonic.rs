//! [`Mnemonic`]: an English BIP39 phrase, held in memory that is wiped on drop.

use crate::KeyError;
use bip39::Language;
use schnorrkel::MiniSecretKey;
use std::fmt;
use zeroize::Zeroizing;

/// Word counts BIP39 allows.
pub const WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// The longest English BIP39 word has 8 letters; one more for the separating space.
const WORD_LEN_MAX: usize = 9;

/// A checked English BIP39 mnemonic. The phrase is zeroized on drop and never printed.
#[derive(Clone)]
pub struct Mnemonic {
    /// Canonical form: lower-case words separated by single spaces.
    phrase: Zeroizing<String>,
    word_count: usize,
}

impl Mnemonic {
    /// Parses and checks a phrase (word list and checksum). Extra whitespace is ignored.
    pub fn parse(phrase: &str) -> Result<Self, KeyError> {
        let parsed = parse_bip39(phrase)?;
        Ok(Self::from_bip39(&parsed))
    }

    /// A fresh random mnemonic of `n_words` words from the operating system's RNG.
    pub fn generate(n_words: usize) -> Result<Self, KeyError> {
        if !WORD_COUNTS.contains(&n_words) {
            return Err(KeyError::BadWordCount { n_words });
        }
        let generated =
            bip39::Mnemonic::generate_in_with(&mut rand_core::OsRng, Language::English, n_words)
                .map_err(|_| KeyError::BadWordCount { n_words })?;
        Ok(Self::from_bip39(&generated))
    }

    fn from_bip39(parsed: &bip39::Mnemonic) -> Self {
        let word_count = parsed.word_count();
        // Reserve up front so the phrase is never reallocated (and an unwiped copy left behind).
        let mut phrase = Zeroizing::new(String::with_capacity(
            WORD_LEN_MAX.saturating_mul(word_count),
        ));
        for (word_idx, word) in parsed.words().enumerate() {
            if word_idx != 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
        }
        Self { phrase, word_count }
    }

    /// The phrase: lower-case words separated by single spaces. Handle with care.
    pub fn phrase(&self) -> &str {
        &self.phrase
    }

    /// The number of words: 12, 15, 18, 21 or 24.
    pub const fn word_count(&self) -> usize {
        self.word_count
    }

    /// The Substrate mini-secret: PBKDF2-HMAC-SHA512 over the BIP39 *entropy*
    /// (not the sentence), salt `"mnemonic" + password`, 2048 rounds, first 32 bytes.
    pub(crate) fn mini_secret(&self, password: Option<&str>) -> Result<MiniSecretKey, KeyError> {
        mini_secret_from_phrase(&self.phrase, password)
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mnemonic")
            .field("word_count", &self.word_count)
            .finish_non_exhaustive()
    }
}

fn parse_bip39(phrase: &str) -> Result<bip39::Mnemonic, KeyError> {
    bip39::Mnemonic::parse_in(Language::English, phrase).map_err(|err| KeyError::InvalidMnemonic {
        reason: match err {
            bip39::Error::BadWordCount(n_words) => {
                format!("{n_words} words; a mnemonic has 12, 15, 18, 21 or 24")
            }
            bip39::Error::UnknownWord(word_idx) => format!(
                "word {} is not in the English BIP39 word list",
                word_idx.saturating_add(1)
            ),
            bip39::Error::InvalidChecksum => {
                "checksum mismatch (a mistyped or reordered word?)".to_owned()
            }
            bip39::Error::BadEntropyBitCount(_) | bip39::Error::AmbiguousLanguages(_) => {
                "not an English BIP39 mnemonic".to_owned()
            }
        },
    })
}

pub(crate) fn mini_secret_from_phrase(
    phrase: &str,
    password: Option<&str>,
) -> Result<MiniSecretKey, KeyError> {
    let parsed = parse_bip39(phrase)?;
    let (entropy_array, entropy_len) = parsed.to_entropy_array();
    let entropy_array = Zeroizing::new(entropy_array);
    let entropy = entropy_array
        .get(..entropy_len)
        .ok_or_else(|| KeyError::InvalidMnemonic {
            reason: "entropy length out of range".to_owned(),
        })?;
    substrate_bip39::mini_secret_from_entropy(entropy, password.unwrap_or("")).map_err(|_| {
        KeyError::InvalidMnemonic {
            reason: "entropy length out of range".to_owned(),
        }
    })
}

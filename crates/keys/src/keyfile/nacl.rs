//! The `$NACL` keyfile encryption of bittensor-wallet.
//!
//! File = `b"$NACL"` ‖ 24-byte nonce ‖ NaCl `secretbox` (XSalsa20-Poly1305, 16-byte MAC first).
//! Key = Argon2i v0x13, t = 8, m = 512 MiB, p = 1, over the password with one fixed salt,
//! 32 bytes out. Each derivation takes seconds and 512 MiB by design.

use crate::KeyError;
use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::{aead::AeadInPlace, Key, KeyInit, Nonce, Tag, XSalsa20Poly1305};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

/// The prefix that marks a `$NACL` keyfile.
pub const NACL_PREFIX: &[u8] = b"$NACL";
/// The salt bittensor-wallet uses for every file (only the nonce is random).
pub const NACL_SALT: [u8; 16] = [
    0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1,
];
/// Argon2 passes: libsodium `OPSLIMIT_SENSITIVE`.
pub const ARGON2_PASSES: u32 = 8;
/// Argon2 memory in KiB: libsodium `MEMLIMIT_SENSITIVE` (512 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 524_288;
const NONCE_LEN: usize = 24;
const MAC_LEN: usize = XSalsa20Poly1305::TAG_SIZE;
const KEY_LEN: usize = 32;

/// Derives the secretbox key from a password: the slow step.
fn derive_key(password: &str) -> Result<Zeroizing<[u8; KEY_LEN]>, KeyError> {
    let encryption = |err: argon2::Error| KeyError::Encryption {
        reason: format!("argon2: {err}"),
    };
    let params =
        Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, Some(KEY_LEN)).map_err(encryption)?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), &NACL_SALT, key.as_mut_slice())
        .map_err(encryption)?;
    Ok(key)
}

/// Encrypts keyfile bytes into a `$NACL` file with a random nonce from the OS.
pub fn encrypt_nacl(plaintext: &[u8], password: &str) -> Result<Vec<u8>, KeyError> {
    let key = derive_key(password)?;
    let mut nonce = [0u8; NONCE_LEN];
    OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|err| KeyError::Encryption {
            reason: format!("OS RNG: {err}"),
        })?;

    // Build the whole file in place: prefix ‖ nonce ‖ MAC ‖ ciphertext.
    let header_len = NACL_PREFIX
        .len()
        .saturating_add(NONCE_LEN)
        .saturating_add(MAC_LEN);
    let mut file = Vec::with_capacity(header_len.saturating_add(plaintext.len()));
    file.extend_from_slice(NACL_PREFIX);
    file.extend_from_slice(&nonce);
    file.extend_from_slice(&[0u8; MAC_LEN]);
    file.extend_from_slice(plaintext);
    let (header, body) = file.split_at_mut(header_len);
    let tag = XSalsa20Poly1305::new(Key::from_slice(key.as_slice()))
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", body)
        .map_err(|_| KeyError::Encryption {
            reason: "secretbox refused the plaintext".to_owned(),
        })?;
    if let Some(mac) = header.get_mut(NACL_PREFIX.len().saturating_add(NONCE_LEN)..) {
        mac.copy_from_slice(&tag);
    }
    Ok(file)
}

/// Decrypts a `$NACL` file. A failed MAC check is [`KeyError::WrongPassword`]; a file too
/// short to hold the header is [`KeyError::Corrupt`] (found before the slow key derivation).
pub fn decrypt_nacl(bytes: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let body = bytes
        .strip_prefix(NACL_PREFIX)
        .ok_or_else(|| KeyError::corrupt("not a $NACL file"))?;
    if body.len() < NONCE_LEN.saturating_add(MAC_LEN) {
        return Err(KeyError::corrupt(format!(
            "$NACL file truncated to {} bytes",
            bytes.len()
        )));
    }
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let (mac, ciphertext) = sealed.split_at(MAC_LEN);
    let key = derive_key(password)?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    XSalsa20Poly1305::new(Key::from_slice(key.as_slice()))
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            b"",
            plaintext.as_mut_slice(),
            Tag::from_slice(mac),
        )
        .map_err(|_| KeyError::WrongPassword {
            path: std::path::PathBuf::new(),
        })?;
    Ok(plaintext)
}

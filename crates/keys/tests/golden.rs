//! Golden vectors made by bittensor 10.5.0 + bittensor-wallet 4.1.1 (`tests/fixtures/golden_vectors.json`).

// Test code: a failed unwrap is a failed test, and helpers outside #[test] fns count too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use hyphae_keys::{
    keyfile::{self, KeyfileData},
    verify, KeyError, Keypair, Mnemonic, Signature,
};
use hyphae_primitives::AccountId;
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(include_str!("fixtures/golden_vectors.json")).unwrap()
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing {pointer}"))
}

/// Standard base64 (with padding), enough for the fixture.
fn base64_decode(encoded: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut n_bits = 0;
    let mut out = Vec::new();
    for byte in encoded.bytes().filter(|byte| *byte != b'=') {
        let value = ALPHABET.iter().position(|symbol| *symbol == byte).unwrap() as u32;
        bits = (bits << 6) | value;
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            out.push((bits >> n_bits) as u8);
            bits &= (1 << n_bits) - 1;
        }
    }
    out
}

fn expected_keyfile() -> serde_json::Map<String, Value> {
    golden()
        .pointer("/mnemonic_vector/keyfile_json")
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn assert_matches_golden(data: &KeyfileData) {
    let expected = expected_keyfile();
    let field = |name: &str| expected[name].as_str().unwrap().to_owned();
    assert_eq!(
        data.secret_phrase.as_deref(),
        Some(field("secretPhrase").as_str())
    );
    assert_eq!(
        data.secret_seed.as_deref(),
        Some(field("secretSeed").as_str())
    );
    assert_eq!(
        data.private_key.as_deref(),
        Some(field("privateKey").as_str())
    );
    assert_eq!(
        data.public_key.as_deref(),
        Some(field("publicKey").as_str())
    );
    assert_eq!(
        data.account_id.as_deref(),
        Some(field("accountId").as_str())
    );
    assert_eq!(
        data.ss58_address.as_deref(),
        Some(field("ss58Address").as_str())
    );
    assert_eq!(data.crypto_type, expected["cryptoType"].as_i64());
}

#[test]
fn mnemonic_gives_every_keyfile_field() {
    let golden = golden();
    let phrase = text(&golden, "/mnemonic_vector/mnemonic");
    let mnemonic = Mnemonic::parse(phrase).unwrap();
    let keypair = Keypair::from_phrase(phrase, None).unwrap();
    let data = KeyfileData::from_keypair(&keypair, Some(&mnemonic)).unwrap();
    assert_matches_golden(&data);

    // The JSON we write has exactly the SDK's keys and values (key order is free).
    let written: Value = serde_json::from_slice(&data.to_json().unwrap()).unwrap();
    assert_eq!(written.as_object().unwrap(), &expected_keyfile());
}

#[test]
fn sdk_keyfile_loads_by_each_precedence_rule() {
    let expected = expected_keyfile();
    let ss58 = expected["ss58Address"].as_str().unwrap();
    let seed = expected["secretSeed"].as_str().unwrap();
    let sdk_json = serde_json::to_vec(&expected).unwrap();

    // secretPhrase first.
    let data = KeyfileData::from_json(&sdk_json).unwrap();
    let keypair = data.keypair().unwrap();
    assert_eq!(keypair.account_id().to_ss58(), ss58);
    assert_eq!(
        format!("0x{}", hex::encode(keypair.mini_secret().unwrap())),
        seed
    );

    // Then secretSeed.
    let mut without_phrase = expected.clone();
    without_phrase.remove("secretPhrase");
    let data = KeyfileData::from_json(&serde_json::to_vec(&without_phrase).unwrap()).unwrap();
    let keypair = data.keypair().unwrap();
    assert_eq!(keypair.account_id().to_ss58(), ss58);
    assert_eq!(
        format!("0x{}", hex::encode(keypair.mini_secret().unwrap())),
        seed
    );

    // Then privateKey (scalar ‖ nonce): the mini-secret is then unknown.
    let mut only_private = without_phrase.clone();
    only_private.remove("secretSeed");
    let data = KeyfileData::from_json(&serde_json::to_vec(&only_private).unwrap()).unwrap();
    let keypair = data.keypair().unwrap();
    assert_eq!(keypair.account_id().to_ss58(), ss58);
    assert!(keypair.mini_secret().is_none());
    let private_key = expected["privateKey"].as_str().unwrap();
    assert_eq!(
        format!("0x{}", hex::encode(*keypair.secret_key_bytes())),
        private_key
    );
    let direct = Keypair::from_secret_key_bytes(&hex::decode(&private_key[2..]).unwrap()).unwrap();
    assert_eq!(direct.account_id().to_ss58(), ss58);

    // Then the public key alone: an account id, but no keypair.
    let mut public_only = only_private;
    public_only.remove("privateKey");
    let data = KeyfileData::from_json(&serde_json::to_vec(&public_only).unwrap()).unwrap();
    assert_eq!(data.account_id().unwrap().to_ss58(), ss58);
    assert!(matches!(data.keypair(), Err(KeyError::PublicOnly { .. })));
}

#[test]
fn mini_secret_and_secret_bytes_agree_with_golden() {
    let expected = expected_keyfile();
    let seed_hex = expected["secretSeed"].as_str().unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(&seed_hex[2..], &mut seed).unwrap();
    let keypair = Keypair::from_mini_secret(seed);
    assert_eq!(
        keypair.account_id().to_hex(),
        expected["publicKey"].as_str().unwrap()
    );
    assert_eq!(
        format!("0x{}", hex::encode(*keypair.secret_key_bytes())),
        expected["privateKey"].as_str().unwrap()
    );
}

#[test]
fn dev_uris_give_golden_addresses() {
    let golden = golden();
    let uris = golden["uri_vectors"].as_object().unwrap();
    assert!(uris.len() >= 3);
    for (uri, expected) in uris {
        let keypair = Keypair::from_uri(uri).unwrap();
        assert_eq!(
            keypair.account_id().to_hex(),
            expected["public_key"].as_str().unwrap(),
            "{uri}"
        );
        assert_eq!(
            keypair.account_id().to_ss58(),
            expected["ss58"].as_str().unwrap(),
            "{uri}"
        );
        // A purely hard path keeps the derived seed.
        assert!(keypair.mini_secret().is_some(), "{uri}");
    }
    // The dev phrase written out, or left implicit, is the same root.
    let explicit = Keypair::from_uri(&format!("{}//Alice", hyphae_keys::DEV_PHRASE)).unwrap();
    assert_eq!(
        explicit.account_id().to_hex(),
        uris["//Alice"]["public_key"].as_str().unwrap()
    );
}

#[test]
fn python_signature_verifies_and_a_flipped_bit_does_not() {
    let golden = golden();
    let signer: AccountId = text(&golden, "/signature_vector/signer_ss58")
        .parse()
        .unwrap();
    assert_eq!(
        Keypair::from_uri(text(&golden, "/signature_vector/signer_uri"))
            .unwrap()
            .account_id(),
        signer
    );
    let message = text(&golden, "/signature_vector/message_utf8").as_bytes();
    let signature_hex = text(&golden, "/signature_vector/signature_hex");
    let signature = Signature::from_hex(signature_hex).unwrap();
    assert_eq!(signature.to_hex(), signature_hex);
    assert!(verify(&signer, message, &signature));

    let mut flipped = signature;
    flipped.0[10] ^= 0x01;
    assert!(!verify(&signer, message, &flipped));

    let mut altered = message.to_vec();
    altered[0] ^= 0x01;
    assert!(!verify(&signer, &altered, &signature));

    let alice = Keypair::from_uri("//Alice").unwrap().account_id();
    assert!(!verify(&alice, message, &signature));
}

/// The only two Argon2 derivations in this file (512 MiB, seconds each).
#[test]
fn nacl_file_decrypts_with_its_password_only() {
    let golden = golden();
    let file = base64_decode(text(&golden, "/nacl_keyfile_vector/file_base64"));
    assert!(keyfile::is_encrypted(&file));
    assert!(matches!(
        keyfile::decode(&file, None),
        Err(KeyError::PasswordRequired { .. })
    ));

    let password = text(&golden, "/nacl_keyfile_vector/password");
    let data = keyfile::decode(&file, Some(password)).unwrap();
    assert_matches_golden(&data);
    assert_eq!(
        data.keypair().unwrap().account_id().to_ss58(),
        expected_keyfile()["ss58Address"].as_str().unwrap()
    );

    let wrong = keyfile::decode(&file, Some("not-the-password"));
    assert!(
        matches!(wrong, Err(KeyError::WrongPassword { .. })),
        "{wrong:?}"
    );
}

#[test]
fn truncated_nacl_file_is_corrupt_not_a_panic() {
    let golden = golden();
    let file = base64_decode(text(&golden, "/nacl_keyfile_vector/file_base64"));
    for len in [5, 6, 28, 29, 44] {
        let result = keyfile::decrypt_nacl(&file[..len], "interop-test-pw");
        assert!(
            matches!(result, Err(KeyError::Corrupt { .. })),
            "len {len}: {result:?}"
        );
    }
}

//! The on-disk wallet: layout, permissions, crash-safe writes and every refusal.

// Test code: a failed unwrap is a failed test, and helpers outside #[test] fns count too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use hyphae_keys::{keyfile, list_wallets, KeyError, Keypair, Mnemonic, Wallet};
use hyphae_primitives::AccountId;
use std::{fs, path::Path};

const PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
const PHRASE_SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
const PHRASE_PRIVATE_KEY: &str = "0x05d65584630d16cd4af6d0bec10f34bb504a5dcb62dba2122d49f5a663763d0afd190cce74df356432b410bd64682309d6dedb27c76845daf388557cbac3ca34";
const PHRASE_PUBLIC_KEY: &str =
    "0x46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a";

fn wallet(root: &Path) -> Wallet {
    Wallet::new(root, "default").unwrap()
}

fn phrase_key() -> (Keypair, Mnemonic) {
    (
        Keypair::from_phrase(PHRASE, None).unwrap(),
        Mnemonic::parse(PHRASE).unwrap(),
    )
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn plaintext_round_trip_and_layout() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let (coldkey, mnemonic) = Keypair::generate(12).unwrap();
    assert_eq!(mnemonic.word_count(), 12);
    let (hotkey, _) = Keypair::generate(24).unwrap();

    wallet
        .write_coldkey(&coldkey, Some(&mnemonic), None, false)
        .unwrap();
    wallet
        .write_hotkey("miner", &hotkey, None, None, false)
        .unwrap();

    assert_eq!(wallet.coldkey_path(), root.path().join("default/coldkey"));
    assert_eq!(
        wallet.coldkeypub_path(),
        root.path().join("default/coldkeypub.txt")
    );
    assert_eq!(
        wallet.hotkey_path("miner"),
        root.path().join("default/hotkeys/miner")
    );
    assert_eq!(
        wallet.hotkeypub_path("miner"),
        root.path().join("default/hotkeys/minerpub.txt")
    );
    assert_eq!(
        dir_names(&wallet.path()),
        ["coldkey", "coldkeypub.txt", "hotkeys"]
    );
    assert_eq!(dir_names(&wallet.hotkeys_dir()), ["miner", "minerpub.txt"]);

    assert!(!wallet.coldkey_is_encrypted().unwrap());
    assert!(!wallet.hotkey_is_encrypted("miner").unwrap());
    let loaded = wallet.coldkey(None).unwrap();
    assert_eq!(loaded.account_id(), coldkey.account_id());
    assert_eq!(loaded.mini_secret(), coldkey.mini_secret());
    assert_eq!(wallet.coldkeypub().unwrap(), coldkey.account_id());
    assert_eq!(
        wallet.hotkey("miner", None).unwrap().account_id(),
        hotkey.account_id()
    );
    assert_eq!(wallet.hotkeypub("miner").unwrap(), hotkey.account_id());
    assert_eq!(wallet.hotkey_names().unwrap(), ["miner"]);
    assert_eq!(list_wallets(root.path()).unwrap(), ["default"]);

    // The coldkey file holds the mnemonic; the public file holds exactly the four public keys.
    let cold: serde_json::Value =
        serde_json::from_slice(&fs::read(wallet.coldkey_path()).unwrap()).unwrap();
    assert_eq!(cold["secretPhrase"].as_str(), Some(mnemonic.phrase()));
    let public: serde_json::Value =
        serde_json::from_slice(&fs::read(wallet.coldkeypub_path()).unwrap()).unwrap();
    let mut keys: Vec<&String> = public.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["accountId", "cryptoType", "publicKey", "ss58Address"]
    );
    assert_eq!(
        public["ss58Address"].as_str(),
        Some(coldkey.account_id().to_ss58().as_str())
    );
    assert_eq!(public["cryptoType"].as_i64(), Some(1));
}

#[cfg(unix)]
#[test]
fn files_are_0600_and_directories_0700() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(&root.path().join("nested/wallets"));
    let (keypair, mnemonic) = phrase_key();
    wallet
        .write_coldkey(&keypair, Some(&mnemonic), None, false)
        .unwrap();
    wallet
        .write_hotkey("default", &keypair, None, None, false)
        .unwrap();
    for file in [
        wallet.coldkey_path(),
        wallet.coldkeypub_path(),
        wallet.hotkey_path("default"),
        wallet.hotkeypub_path("default"),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    for dir in [
        wallet.root().to_path_buf(),
        wallet.path(),
        wallet.hotkeys_dir(),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    // Overwriting keeps the mode even if the old file was looser.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(wallet.coldkey_path(), fs::Permissions::from_mode(0o644)).unwrap();
    wallet
        .write_coldkey(&keypair, Some(&mnemonic), None, true)
        .unwrap();
    assert_eq!(mode(&wallet.coldkey_path()), 0o600);
}

#[test]
fn already_exists_touches_nothing_and_overwrite_replaces() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let (first, mnemonic) = phrase_key();
    wallet
        .write_coldkey(&first, Some(&mnemonic), None, false)
        .unwrap();
    wallet.write_hotkey("h", &first, None, None, false).unwrap();
    let cold_before = fs::read(wallet.coldkey_path()).unwrap();
    let pub_before = fs::read(wallet.coldkeypub_path()).unwrap();
    let hot_before = fs::read(wallet.hotkey_path("h")).unwrap();

    let second = Keypair::from_uri("//Bob").unwrap();
    let refused = wallet.write_coldkey(&second, None, None, false);
    assert!(
        matches!(&refused, Err(KeyError::AlreadyExists { path }) if *path == wallet.coldkey_path()),
        "{refused:?}"
    );
    assert!(refused.unwrap_err().to_string().contains("coldkey"));
    assert!(matches!(
        wallet.write_hotkey("h", &second, None, None, false),
        Err(KeyError::AlreadyExists { .. })
    ));
    assert!(matches!(
        wallet.write_coldkeypub(&second.account_id(), false),
        Err(KeyError::AlreadyExists { .. })
    ));
    assert_eq!(fs::read(wallet.coldkey_path()).unwrap(), cold_before);
    assert_eq!(fs::read(wallet.coldkeypub_path()).unwrap(), pub_before);
    assert_eq!(fs::read(wallet.hotkey_path("h")).unwrap(), hot_before);
    // No temporary file is left behind.
    assert_eq!(
        dir_names(&wallet.path()),
        ["coldkey", "coldkeypub.txt", "hotkeys"]
    );
    assert_eq!(dir_names(&wallet.hotkeys_dir()), ["h", "hpub.txt"]);

    // A coldkeypub.txt for another key blocks writing a coldkey even when no coldkey exists.
    fs::remove_file(wallet.coldkey_path()).unwrap();
    assert!(
        matches!(wallet.write_coldkey(&second, None, None, false), Err(KeyError::AlreadyExists { path }) if path == wallet.coldkeypub_path())
    );
    assert!(!wallet.coldkey_path().exists());
    // ... but one for the same key does not (regen after regen-coldkeypub).
    wallet
        .write_coldkey(&first, Some(&mnemonic), None, false)
        .unwrap();

    wallet.write_coldkey(&second, None, None, true).unwrap();
    assert_eq!(
        wallet.coldkey(None).unwrap().account_id(),
        second.account_id()
    );
    assert_eq!(wallet.coldkeypub().unwrap(), second.account_id());
    assert_eq!(
        dir_names(&wallet.path()),
        ["coldkey", "coldkeypub.txt", "hotkeys"]
    );
}

/// The only two Argon2 derivations in this file (512 MiB, seconds each).
#[test]
fn encrypted_coldkey_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let (keypair, mnemonic) = phrase_key();
    wallet
        .write_coldkey(&keypair, Some(&mnemonic), Some("correct horse"), false)
        .unwrap();

    let raw = fs::read(wallet.coldkey_path()).unwrap();
    assert!(raw.starts_with(b"$NACL"));
    assert!(!String::from_utf8_lossy(&raw).contains("bottom"));
    assert!(wallet.coldkey_is_encrypted().unwrap());
    // The public file stays plaintext and readable without a password.
    assert_eq!(wallet.coldkeypub().unwrap().to_ss58(), PHRASE_SS58);
    let missing = wallet.coldkey(None);
    assert!(
        matches!(&missing, Err(KeyError::PasswordRequired { path }) if *path == wallet.coldkey_path()),
        "{missing:?}"
    );

    let loaded = wallet.coldkey(Some("correct horse")).unwrap();
    assert_eq!(loaded.account_id().to_ss58(), PHRASE_SS58);
    assert_eq!(
        format!("0x{}", hex::encode(*loaded.secret_key_bytes())),
        PHRASE_PRIVATE_KEY
    );
}

#[test]
fn truncated_and_corrupt_keyfiles_are_corrupt_with_path() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let (keypair, mnemonic) = phrase_key();
    wallet
        .write_coldkey(&keypair, Some(&mnemonic), None, false)
        .unwrap();
    let good = fs::read(wallet.coldkey_path()).unwrap();
    let good_json: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let path = wallet.coldkey_path();

    let mut bad_hex = good_json.clone();
    bad_hex.as_object_mut().unwrap().remove("secretPhrase");
    bad_hex.as_object_mut().unwrap().remove("secretSeed");
    bad_hex["privateKey"] = "0x05d6zz".into();
    let mut other_public = good_json.clone();
    other_public["ss58Address"] = Keypair::from_uri("//Alice")
        .unwrap()
        .account_id()
        .to_ss58()
        .into();
    let mut bad_checksum = good_json.clone();
    bad_checksum["secretPhrase"] = PHRASE.replace("walk", "bottom").into();
    let mut wrong_type = good_json.clone();
    wrong_type["secretSeed"] = 7.into();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("not json", b"hello".to_vec()),
        ("json array", b"[1, 2]".to_vec()),
        ("bad hex", serde_json::to_vec(&bad_hex).unwrap()),
        (
            "public key of another account",
            serde_json::to_vec(&other_public).unwrap(),
        ),
        (
            "bad mnemonic checksum",
            serde_json::to_vec(&bad_checksum).unwrap(),
        ),
        ("wrong value type", serde_json::to_vec(&wrong_type).unwrap()),
        ("truncated $NACL", b"$NACL\x01\x02\x03".to_vec()),
    ];
    for (case, bytes) in cases {
        fs::write(&path, &bytes).unwrap();
        match wallet.coldkey(Some("pw")) {
            Err(err @ KeyError::Corrupt { .. }) => {
                let KeyError::Corrupt { path: err_path, .. } = &err else {
                    unreachable!()
                };
                assert_eq!(*err_path, path, "{case}");
                // Errors never echo secrets.
                let shown = format!("{err} {err:?}");
                assert!(
                    !shown.contains("bottom") && !shown.contains("05d6"),
                    "{case}: {shown}"
                );
            }
            other => panic!("{case}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn legacy_encryptions_are_refused_with_advice() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    fs::create_dir_all(wallet.hotkeys_dir()).unwrap();
    fs::write(
        wallet.coldkey_path(),
        b"$ANSIBLE_VAULT;1.1;AES256\n6162636465",
    )
    .unwrap();
    fs::write(wallet.hotkey_path("old"), b"gAAAAABkZ3Rlc3Q=").unwrap();

    assert!(wallet.coldkey_is_encrypted().unwrap());
    assert!(wallet.hotkey_is_encrypted("old").unwrap());
    let ansible = wallet.coldkey(Some("pw")).unwrap_err();
    assert!(
        matches!(&ansible, KeyError::UnsupportedFormat { format: "Ansible Vault", path } if *path == wallet.coldkey_path())
    );
    assert!(
        ansible.to_string().contains("older bittensor SDK"),
        "{ansible}"
    );
    let fernet = wallet.hotkey("old", None).unwrap_err();
    assert!(
        matches!(&fernet, KeyError::UnsupportedFormat { format: "Fernet", path } if *path == wallet.hotkey_path("old"))
    );
}

#[test]
fn legacy_files_with_nulls_and_unknown_keys_load() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    fs::create_dir_all(wallet.hotkeys_dir()).unwrap();
    // Old SDKs wrote every key, null when absent, and no cryptoType.
    let full = format!(
        r#"{{"accountId": "{PHRASE_PUBLIC_KEY}", "publicKey": "{PHRASE_PUBLIC_KEY}", "secretPhrase": null,
            "secretSeed": null, "privateKey": "{PHRASE_PRIVATE_KEY}", "ss58Address": "{PHRASE_SS58}",
            "someFutureKey": {{"nested": [1, 2]}}}}"#
    );
    fs::write(wallet.coldkey_path(), &full).unwrap();
    let public = format!(
        r#"{{"accountId": null, "publicKey": "{PHRASE_PUBLIC_KEY}", "privateKey": null, "secretPhrase": null,
            "secretSeed": null, "ss58Address": null, "cryptoType": 1}}"#
    );
    fs::write(wallet.coldkeypub_path(), &public).unwrap();

    let keypair = wallet.coldkey(None).unwrap();
    assert_eq!(keypair.account_id().to_ss58(), PHRASE_SS58);
    assert!(keypair.mini_secret().is_none());
    assert_eq!(wallet.coldkeypub().unwrap().to_ss58(), PHRASE_SS58);

    // A hotkey without a pub.txt: the public key comes from the plaintext hotkey file.
    fs::write(wallet.hotkey_path("legacy"), &full).unwrap();
    assert_eq!(wallet.hotkeypub("legacy").unwrap().to_ss58(), PHRASE_SS58);
    assert_eq!(wallet.hotkey_names().unwrap(), ["legacy"]);

    // An ed25519 key (cryptoType 0) is refused by type, not misread.
    fs::write(
        wallet.hotkey_path("ed"),
        full.replace("\"someFutureKey\"", "\"cryptoType\": 0, \"x\""),
    )
    .unwrap();
    assert!(matches!(
        wallet.hotkey("ed", None),
        Err(KeyError::UnsupportedCryptoType { crypto_type: 0, .. })
    ));
}

#[test]
fn watch_only_wallet_and_missing_files() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let missing = wallet.coldkeypub().unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    assert!(matches!(&missing, KeyError::Io { path, .. } if *path == wallet.coldkeypub_path()));
    assert!(wallet.hotkey_names().unwrap().is_empty());
    assert!(list_wallets(&root.path().join("absent"))
        .unwrap()
        .is_empty());

    let alice: AccountId = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        .parse()
        .unwrap();
    wallet.write_coldkeypub(&alice, false).unwrap();
    assert_eq!(wallet.coldkeypub().unwrap(), alice);
    assert!(matches!(wallet.coldkey(None), Err(err) if err.is_not_found()));

    // A public file where a secret is needed.
    fs::copy(wallet.coldkeypub_path(), wallet.coldkey_path()).unwrap();
    assert!(
        matches!(wallet.coldkey(None), Err(KeyError::PublicOnly { path }) if path == wallet.coldkey_path())
    );
}

#[test]
fn names_are_checked_and_listed_sorted() {
    let root = tempfile::tempdir().unwrap();
    for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "nul\0"] {
        assert!(
            matches!(
                Wallet::new(root.path(), bad),
                Err(KeyError::InvalidName { .. })
            ),
            "{bad:?}"
        );
    }
    let wallet = wallet(root.path());
    let keypair = Keypair::from_uri("//Eve").unwrap();
    for bad in ["", "..", "../../escape", "x/y"] {
        assert!(
            matches!(
                wallet.write_hotkey(bad, &keypair, None, None, false),
                Err(KeyError::InvalidName { .. })
            ),
            "{bad:?}"
        );
        assert!(
            matches!(wallet.hotkey(bad, None), Err(KeyError::InvalidName { .. })),
            "{bad:?}"
        );
    }
    assert!(!root.path().join("escape").exists());

    for name in ["zeta", "alpha", "mid"] {
        Wallet::new(root.path(), name)
            .unwrap()
            .write_coldkeypub(&keypair.account_id(), false)
            .unwrap();
        wallet
            .write_hotkey(name, &keypair, None, None, false)
            .unwrap();
    }
    fs::write(root.path().join("stray-file"), b"x").unwrap();
    fs::create_dir(root.path().join(".cache")).unwrap();
    assert_eq!(
        list_wallets(root.path()).unwrap(),
        ["alpha", "default", "mid", "zeta"]
    );
    assert_eq!(wallet.hotkey_names().unwrap(), ["alpha", "mid", "zeta"]);
}

#[test]
fn mnemonics_are_checked() {
    let bad_checksum = PHRASE.replace("walk", "bottom");
    assert!(matches!(
        Keypair::from_phrase(&bad_checksum, None),
        Err(KeyError::InvalidMnemonic { .. })
    ));
    assert!(matches!(
        Mnemonic::parse(&bad_checksum),
        Err(KeyError::InvalidMnemonic { .. })
    ));
    let unknown = PHRASE.replace("lake", "lakes");
    let err = Keypair::from_phrase(&unknown, None).unwrap_err();
    assert!(err.to_string().contains("word 4"), "{err}");
    assert!(!err.to_string().contains("lakes"));
    assert!(matches!(
        Keypair::from_phrase("bottom drive obey", None),
        Err(KeyError::InvalidMnemonic { .. })
    ));
    for n_words in [0, 11, 13, 25] {
        assert!(
            matches!(Keypair::generate(n_words), Err(KeyError::BadWordCount { n_words: n }) if n == n_words)
        );
    }
    for n_words in hyphae_keys::WORD_COUNTS {
        let (keypair, mnemonic) = Keypair::generate(n_words).unwrap();
        assert_eq!(mnemonic.word_count(), n_words);
        assert_eq!(mnemonic.phrase().split(' ').count(), n_words);
        assert_eq!(
            Keypair::from_mnemonic(&mnemonic, None)
                .unwrap()
                .account_id(),
            keypair.account_id()
        );
    }
    // Extra whitespace is normalised away.
    let spaced = format!("  {}  ", PHRASE.replace(' ', "   "));
    assert_eq!(Mnemonic::parse(&spaced).unwrap().phrase(), PHRASE);
    assert_eq!(
        Keypair::from_phrase(&spaced, None)
            .unwrap()
            .account_id()
            .to_ss58(),
        PHRASE_SS58
    );

    // A keyfile is never written with a mnemonic that is not the key's.
    let root = tempfile::tempdir().unwrap();
    let other = Keypair::from_uri("//Bob").unwrap();
    let (_, mnemonic) = phrase_key();
    assert!(matches!(
        wallet(root.path()).write_coldkey(&other, Some(&mnemonic), None, false),
        Err(KeyError::MnemonicMismatch { .. })
    ));
    assert!(!wallet(root.path()).coldkey_path().exists());
}

#[test]
fn uris_with_passwords_and_paths() {
    let with_password = Keypair::from_uri(&format!("{PHRASE}///secret pw")).unwrap();
    assert_eq!(
        with_password.account_id(),
        Keypair::from_phrase(PHRASE, Some("secret pw"))
            .unwrap()
            .account_id()
    );
    assert_ne!(with_password.account_id().to_ss58(), PHRASE_SS58);

    let plain = Keypair::from_uri(PHRASE).unwrap();
    assert_eq!(plain.account_id().to_ss58(), PHRASE_SS58);

    let hard = Keypair::from_uri(&format!("{PHRASE}//hard")).unwrap();
    let stash = Keypair::from_uri("//Alice//stash").unwrap();
    let soft = Keypair::from_uri("//Alice/soft").unwrap();
    let alice = Keypair::from_uri("//Alice").unwrap();
    let ids = [
        plain.account_id(),
        hard.account_id(),
        stash.account_id(),
        soft.account_id(),
        alice.account_id(),
    ];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
    // Soft derivation is deterministic in its public key but forgets the seed.
    assert_eq!(
        Keypair::from_uri("//Alice/soft").unwrap().account_id(),
        soft.account_id()
    );
    assert!(soft.mini_secret().is_none());
    assert!(Keypair::from_uri("//Alice/soft//hard")
        .unwrap()
        .mini_secret()
        .is_none());

    // A 0x seed is the mini-secret itself.
    let seed = [7u8; 32];
    let from_seed = Keypair::from_uri(&format!("0x{}", hex::encode(seed))).unwrap();
    assert_eq!(
        from_seed.account_id(),
        Keypair::from_mini_secret(seed).account_id()
    );

    for bad in ["//", "//Alice//", "0x1234", "not a phrase at all//x"] {
        assert!(Keypair::from_uri(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn debug_output_never_shows_secrets() {
    let (keypair, mnemonic) = phrase_key();
    let data = keyfile::KeyfileData::from_keypair(&keypair, Some(&mnemonic)).unwrap();
    let shown = format!("{keypair:?} {mnemonic:?} {data:?}");
    assert!(shown.contains(PHRASE_SS58));
    assert!(!shown.contains("bottom"), "{shown}");
    assert!(!shown.contains(&PHRASE_PRIVATE_KEY[2..20]), "{shown}");
    assert!(!shown.contains("fac7959d"), "{shown}");
}

#[test]
fn staged_keys_appear_only_when_published() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let (key, mnemonic) = phrase_key();
    let staged = wallet
        .stage_coldkey(&key, Some(&mnemonic), None, false)
        .unwrap();
    assert_eq!(staged.key_path(), wallet.coldkey_path());
    assert!(!wallet.coldkey_path().exists());
    assert!(!wallet.coldkeypub_path().exists());
    // Dropped unpublished: nothing stays behind, not even the temporary files.
    drop(staged);
    assert!(dir_names(&wallet.path()).is_empty());
    wallet
        .stage_hotkey("hk", &key, Some(&mnemonic), None, false)
        .unwrap()
        .publish()
        .unwrap();
    assert_eq!(dir_names(&wallet.hotkeys_dir()), ["hk", "hkpub.txt"]);
}

#[test]
fn new_key_checks_refuse_a_public_file_of_another_key() {
    let root = tempfile::tempdir().unwrap();
    let wallet = wallet(root.path());
    let (key, _) = phrase_key();
    let (other, _) = Keypair::generate(12).unwrap();
    wallet.write_coldkeypub(&other.account_id(), false).unwrap();
    fs::create_dir_all(wallet.hotkeys_dir()).unwrap();
    fs::copy(wallet.coldkeypub_path(), wallet.hotkeypub_path("hk")).unwrap();
    for result in [
        wallet.check_new_coldkey(&key.account_id()),
        wallet.check_new_hotkey("hk", &key.account_id()),
    ] {
        assert!(
            matches!(result, Err(KeyError::AlreadyExists { .. })),
            "{result:?}"
        );
    }
    // The public file of this very key does not block it (an earlier regen left it).
    wallet.check_new_coldkey(&other.account_id()).unwrap();
    wallet.check_new_hotkey("free", &key.account_id()).unwrap();
}

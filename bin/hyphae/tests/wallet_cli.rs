//! `hyphae wallet` through the real binary: the JSON contract and every bad-input path.
//! Each bad input must give a clear message, exit code 1, no panic, and leave files untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{fs, path::Path};

use assert_cmd::Command;
use serde_json::Value;

const MNEMONIC: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
const MNEMONIC_ADDRESS: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
/// The same public key under the Polkadot prefix (0): valid ss58, wrong network.
const POLKADOT_ADDRESS: &str = "12bzRJfh7arnnfPPUZHeJUaE62QLEwhK48QnH9LXeK2m1iZU";

fn hyphae(root: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hyphae").unwrap();
    cmd.env_remove("HYPHAE_WALLET_PASSWORD")
        .env("HOME", root)
        .arg("wallet");
    cmd
}

/// `hyphae wallet VERB --wallet-path ROOT --name NAME --hotkey hk`.
fn wallet(root: &Path, verb: &str, name: &str) -> Command {
    let mut cmd = hyphae(root);
    cmd.arg(verb).args(select(root, name));
    cmd
}

fn select(root: &Path, name: &str) -> Vec<String> {
    let root = root.display().to_string();
    ["--wallet-path", &root, "--name", name, "--hotkey", "hk"]
        .map(String::from)
        .to_vec()
}

fn json_out(cmd: &mut Command) -> Value {
    let out = cmd.arg("--output").arg("json").output().unwrap();
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Run a command expected to fail as a user error; return its stderr.
fn user_failure(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn create_show_sign_verify_contract() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let made = json_out(wallet(root, "create", "w").arg("--no-password"));
    let shown = json_out(&mut wallet(root, "show", "w"));
    assert_eq!(shown["coldkey"], made["coldkey"]);
    assert_eq!(shown["hotkey"], made["hotkey"]);
    for (flag, role) in [(None, "hotkey"), (Some("--coldkey"), "coldkey")] {
        let mut cmd = hyphae(root);
        cmd.arg("sign")
            .args(select(root, "w"))
            .args(["--message", "hello"]);
        if let Some(flag) = flag {
            cmd.arg(flag);
        }
        let signed = json_out(&mut cmd);
        assert_eq!(signed["address"], made[role]);
        let signature = signed["signature"].as_str().unwrap();
        assert_eq!(signature.len(), 130);
        let address = signed["address"].as_str().unwrap();
        let verify = [
            "verify",
            "--message",
            "hello",
            "--signature",
            signature,
            "--address",
            address,
        ];
        assert_eq!(json_out(hyphae(root).args(verify))["valid"], true);
        let tampered = [
            "verify",
            "--message",
            "hellO",
            "--signature",
            signature,
            "--address",
            address,
        ];
        user_failure(hyphae(root).args(tampered));
    }
}

#[test]
fn regen_from_mnemonic_gives_known_address() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let regen = ["--mnemonic", MNEMONIC, "--no-password"];
    let made = json_out(wallet(root, "regen-coldkey", "r").args(regen));
    assert_eq!(made["coldkey"], MNEMONIC_ADDRESS);
    let made = json_out(wallet(root, "regen-hotkey", "r").args(&regen[..2]));
    assert_eq!(made["hotkey"], MNEMONIC_ADDRESS);
    let watch = ["--ss58", MNEMONIC_ADDRESS];
    let made = json_out(wallet(root, "regen-coldkeypub", "watch").args(watch));
    assert_eq!(made["coldkey"], MNEMONIC_ADDRESS);
}

#[test]
fn existing_wallet_needs_overwrite_and_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_out(wallet(root, "create", "w").arg("--no-password"));
    let before = fs::read(root.join("w/coldkey")).unwrap();
    let err = user_failure(wallet(root, "create", "w").arg("--no-password"));
    assert!(err.contains("--overwrite"), "{err}");
    let regen = ["--mnemonic", MNEMONIC, "--no-password"];
    let err = user_failure(wallet(root, "regen-coldkey", "w").args(regen));
    assert!(err.contains("exists"), "{err}");
    assert_eq!(fs::read(root.join("w/coldkey")).unwrap(), before);
}

#[test]
fn wrong_password_is_refused_and_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut regen = hyphae(root);
    regen
        .env("HYPHAE_WALLET_PASSWORD", "right horse")
        .arg("regen-coldkey");
    json_out(
        regen
            .args(select(root, "enc"))
            .args(["--mnemonic", MNEMONIC]),
    );
    let before = fs::read(root.join("enc/coldkey")).unwrap();
    assert!(before.starts_with(b"$NACL"));
    let sign = ["--message", "m", "--coldkey"];
    let mut wrong = hyphae(root);
    wrong
        .env("HYPHAE_WALLET_PASSWORD", "wrong horse")
        .arg("sign");
    let err = user_failure(wrong.args(select(root, "enc")).args(sign));
    assert!(err.to_lowercase().contains("password"), "{err}");
    // With no password source and no terminal, it says how to give one.
    let err = user_failure(wallet(root, "sign", "enc").args(sign));
    assert!(err.contains("HYPHAE_WALLET_PASSWORD"), "{err}");
    assert_eq!(fs::read(root.join("enc/coldkey")).unwrap(), before);
}

#[test]
fn corrupt_truncated_and_foreign_keyfiles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_out(wallet(root, "create", "w").arg("--no-password"));
    let hotkey = root.join("w/hotkeys/hk");
    let full = fs::read(&hotkey).unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("truncated", full[..full.len() / 2].to_vec()),
        ("garbage", b"\x00\x01not json at all".to_vec()),
        ("ansible", b"$ANSIBLE_VAULT;1.1;AES256\n3132".to_vec()),
        ("fernet", b"gAAAAABkZ2V0".to_vec()),
    ];
    for (what, bytes) in cases {
        fs::write(&hotkey, &bytes).unwrap();
        let err = user_failure(wallet(root, "sign", "w").args(["--message", "m"]));
        match what {
            "ansible" => assert!(err.contains("Ansible"), "{err}"),
            "fernet" => assert!(err.contains("Fernet"), "{err}"),
            _ => assert!(err.contains(&hotkey.display().to_string()), "{what}: {err}"),
        }
        assert_eq!(
            fs::read(&hotkey).unwrap(),
            bytes,
            "{what} must be left as it was"
        );
    }
}

#[test]
fn unreadable_or_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let err = user_failure(&mut wallet(root, "show", "nobody"));
    assert!(err.contains("coldkeypub.txt"), "{err}");
    json_out(wallet(root, "create", "w").arg("--no-password"));
    // A directory where a file should be cannot be read, even by root.
    let hotkey = root.join("w/hotkeys/hk");
    fs::remove_file(&hotkey).unwrap();
    fs::create_dir(&hotkey).unwrap();
    user_failure(wallet(root, "sign", "w").args(["--message", "m"]));
}

#[test]
fn bad_mnemonic_and_bad_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bad_checksum = MNEMONIC.replace("walk", "wall");
    let regen = ["--mnemonic", bad_checksum.as_str(), "--no-password"];
    let err = user_failure(wallet(root, "regen-coldkey", "x").args(regen));
    assert!(err.contains("mnemonic"), "{err}");
    assert!(!root.join("x/coldkey").exists());
    let sig = format!("0x{}", "00".repeat(64));
    for (address, expect) in [
        (
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzW",
            "checksum",
        ),
        ("5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9Ayd", "bytes"),
        (POLKADOT_ADDRESS, "prefix"),
        ("not-base58-0OIl", "base58"),
    ] {
        let verify = [
            "verify",
            "--message",
            "m",
            "--signature",
            &sig,
            "--address",
            address,
        ];
        let err = user_failure(hyphae(root).args(verify));
        assert!(err.contains(expect), "{address}: {err}");
    }
    let err = user_failure(wallet(root, "regen-coldkeypub", "x").args(["--ss58", "5Dfh"]));
    assert!(err.contains("--ss58"), "{err}");
}

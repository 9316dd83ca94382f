//! `hyphae wallet` through the real binary: the JSON contract and every bad-input path.
//! Each bad input must give a clear message, exit code 1, no panic, and leave files untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::{
    fs,
    path::Path,
    process::{Output, Stdio},
};

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
        // `--output json` gives exactly one document, the verdict, and still exit code 1.
        let out = hyphae(root)
            .args(tampered)
            .args(["--output", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["valid"], false);
        assert_eq!(doc["address"], address);
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
    // The operating system's reason is given once, not once per level of the error chain.
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
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

/// The binary itself, without the `wallet` subcommand, as a plain std command.
fn std_hyphae(root: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hyphae"));
    cmd.env_remove("HYPHAE_WALLET_PASSWORD")
        .env_remove("HYPHAE_OUTPUT")
        .env("HOME", root)
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` with stdout a pipe whose reading end is closed before the child starts, as
/// `hyphae … | head` ends up once `head` has exited.
fn with_closed_stdout(cmd: &mut std::process::Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = cmd.stdout(writer).stderr(Stdio::piped()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

#[test]
fn regen_reads_the_mnemonic_from_a_file_or_stdin_not_argv() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut args = vec!["regen-hotkey".to_owned()];
    args.extend(select(root, "stdin"));
    args.extend(["--mnemonic-file".to_owned(), "-".to_owned()]);
    assert!(
        args.iter()
            .all(|arg| !MNEMONIC.split(' ').any(|word| arg == word)),
        "{args:?}"
    );
    let mut cmd = hyphae(root);
    cmd.args(&args).write_stdin(format!("{MNEMONIC}\n"));
    assert_eq!(json_out(&mut cmd)["hotkey"], MNEMONIC_ADDRESS);

    let file = root.join("phrase.txt");
    fs::write(&file, format!("  {MNEMONIC}\n\n")).unwrap();
    let mut cmd = wallet(root, "regen-coldkey", "file");
    cmd.arg("--no-password").arg("--mnemonic-file").arg(&file);
    assert_eq!(json_out(&mut cmd)["coldkey"], MNEMONIC_ADDRESS);

    // No source and no terminal to prompt on: say how to give it.
    let err = user_failure(&mut wallet(root, "regen-hotkey", "none"));
    assert!(err.contains("--mnemonic-file"), "{err}");
    assert!(!root.join("none").exists());

    // A file far longer than any mnemonic is refused without reading it all.
    let big = root.join("big.txt");
    fs::write(&big, "abandon ".repeat(1000)).unwrap();
    let err = user_failure(
        wallet(root, "regen-hotkey", "big")
            .arg("--mnemonic-file")
            .arg(&big),
    );
    assert!(err.contains("bytes"), "{err}");
}

#[test]
fn unquoted_mnemonic_words_are_accepted_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut cmd = wallet(root, "regen-hotkey", "u");
    cmd.arg("--mnemonic").args(MNEMONIC.split(' '));
    assert_eq!(json_out(&mut cmd)["hotkey"], MNEMONIC_ADDRESS);
    // A bad phrase is named by position, never by its words.
    let bad = MNEMONIC.replace("walk", "wall");
    let mut cmd = wallet(root, "regen-hotkey", "b");
    let err = user_failure(cmd.arg("--mnemonic").args(bad.split(' ')));
    assert!(!err.contains("drive"), "{err}");
}

#[test]
fn create_with_a_foreign_hotkeypub_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_out(wallet(root, "create", "a").arg("--no-password"));
    // A watch-only hotkey left by `regen-hotkeypub` or a copied wallet.
    fs::create_dir_all(root.join("b/hotkeys")).unwrap();
    fs::copy(
        root.join("a/coldkeypub.txt"),
        root.join("b/hotkeys/hkpub.txt"),
    )
    .unwrap();
    let out = wallet(root, "create", "b")
        .args(["--no-password", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "user");
    assert!(
        doc["error"].as_str().unwrap().contains("hkpub.txt"),
        "{doc}"
    );
    assert!(!root.join("b/coldkey").exists());
    assert!(!root.join("b/coldkeypub.txt").exists());
    assert!(!root.join("b/hotkeys/hk").exists());
}

#[test]
fn new_keys_whose_mnemonic_cannot_be_shown_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cases: [&[&str]; 3] = [
        &["create", "--no-password"],
        &["new-coldkey", "--no-password"],
        &["new-hotkey"],
    ];
    for args in cases {
        let verb = args[0];
        for format in ["text", "json"] {
            let name = format!("{verb}-{format}");
            let out = with_closed_stdout(
                std_hyphae(root)
                    .args(["--output", format, "wallet"])
                    .args(args)
                    .args(select(root, &name)),
            );
            assert_eq!(out.status.code(), Some(1), "{verb} {format}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("not kept"), "{stderr}");
            for file in [
                "coldkey",
                "coldkeypub.txt",
                "hotkeys/hk",
                "hotkeys/hkpub.txt",
            ] {
                assert!(!root.join(&name).join(file).exists(), "{verb}: {file}");
            }
        }
    }
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_out(wallet(root, "create", "w").arg("--no-password"));
    let path = root.display().to_string();
    let out = with_closed_stdout(std_hyphae(root).args(["wallet", "list", "--wallet-path", &path]));
    assert_eq!(out.status.code(), Some(0));
    let out = with_closed_stdout(
        std_hyphae(root)
            .args(["wallet", "show"])
            .args(select(root, "w")),
    );
    assert_eq!(out.status.code(), Some(0));
    // An error whose JSON document cannot be delivered is still an error.
    let verify = [
        "--output",
        "json",
        "wallet",
        "verify",
        "--message",
        "m",
        "--signature",
        "00",
        "--address",
        MNEMONIC_ADDRESS,
    ];
    let out = with_closed_stdout(std_hyphae(root).args(verify));
    assert_eq!(out.status.code(), Some(1));
    // `2>&1 | head`: stderr is the same closed pipe. A panic would exit with 101.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = std_hyphae(root)
        .args(verify)
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn bad_flags_are_user_errors_and_json_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cases: [(&[&str], Option<&str>); 4] = [
        (&["--output", "json", "balance", "--address", "nope"], None),
        (
            &[
                "--output=json",
                "transfer",
                "--dest",
                "xyz",
                "--amount",
                "1",
            ],
            None,
        ),
        (&["wallet", "show", "--no-such-flag"], Some("json")),
        (&["wallet", "verify"], None),
    ];
    for (args, env) in cases {
        let mut cmd = std_hyphae(root);
        cmd.args(args);
        if let Some(format) = env {
            cmd.env("HYPHAE_OUTPUT", format);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        let json = env.is_some() || args.iter().any(|arg| arg.contains("json"));
        if json {
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(doc["kind"], "user", "{doc}");
            assert!(!doc["error"].as_str().unwrap().is_empty());
        } else {
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    // Help and version are answers, not errors.
    for flag in ["--help", "--version"] {
        let out = std_hyphae(root).arg(flag).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(!out.stdout.is_empty(), "{flag}");
    }
}

#[test]
fn an_empty_or_oversized_new_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let empty = root.join("empty");
    fs::write(&empty, "").unwrap();
    let blank_first_line = root.join("blank");
    fs::write(&blank_first_line, "\nsecret\n").unwrap();
    for file in [&empty, &blank_first_line] {
        let mut cmd = wallet(root, "new-coldkey", "w");
        let err = user_failure(cmd.arg("--password-file").arg(file));
        assert!(err.contains("empty password"), "{err}");
    }
    let mut cmd = wallet(root, "new-coldkey", "w");
    let err = user_failure(cmd.env("HYPHAE_WALLET_PASSWORD", ""));
    assert!(err.contains("empty password"), "{err}");
    let big = root.join("big");
    fs::write(&big, vec![b'x'; 5000]).unwrap();
    let mut cmd = wallet(root, "new-coldkey", "w");
    let err = user_failure(cmd.arg("--password-file").arg(&big));
    assert!(err.contains("4096"), "{err}");
    assert!(!root.join("w/coldkey").exists());
}

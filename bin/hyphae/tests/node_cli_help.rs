//! Every chain command parses (clap's debug assertions run when a subcommand is built), and the
//! errors that need no node exit with code 1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Stdio};

fn hyphae(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hyphae"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn every_chain_command_has_help() {
    let commands: &[&[&str]] = &[
        &["node"],
        &["balance"],
        &["transfer"],
        &["block"],
        &["stake", "add"],
        &["stake", "remove"],
        &["stake", "list"],
        &["subnet", "create"],
        &["subnet", "list"],
        &["subnet", "show"],
        &["subnet", "hyperparameters"],
        &["subnet", "set-hyperparameter"],
        &["subnet", "start"],
        &["subnet", "register"],
        &["axon", "serve"],
        &["weights", "set"],
        &["weights", "commit"],
        &["weights", "reveal"],
        &["metagraph"],
        &["explain"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let output = hyphae(&args);
        assert!(
            output.status.success(),
            "{command:?} --help: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("--output"),
            "{command:?}"
        );
    }
}

#[test]
fn user_errors_exit_1() {
    // Only dev chains for now.
    assert_eq!(hyphae(&["node"]).status.code(), Some(1));
    // No node listening.
    let output = hyphae(&[
        "block",
        "--rpc-url",
        "http://127.0.0.1:1",
        "--output",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["kind"], "user");
    // A bad URL scheme and an unknown hyperparameter are caught before connecting.
    assert_eq!(
        hyphae(&["block", "--rpc-url", "ftp://x"]).status.code(),
        Some(1)
    );
    let output = hyphae(&[
        "subnet",
        "set-hyperparameter",
        "--uri",
        "//Alice",
        "--netuid",
        "1",
        "--param",
        "nope",
        "--value",
        "1",
        "--rpc-url",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nope"));
}

//! Interop fixture: a hyphae dendrite querying an axon that serves the `interop_synapses.py`
//! synapses (the Python `py_axon.py`, or our `interop_axon`).
//!
//! usage: interop_dendrite HOST PORT AXON_HOTKEY [--timeout S] [--no-negative] [--stream-only]
//!
//! Prints one JSON line per check and a summary; exits non-zero on any wrong answer.
//! Signs with the dev key //Bob; the blacklist check signs with //Eve.

#[path = "common/mod.rs"]
mod common;

use anyhow::Context;
use clap::Parser;
use common::{DummyMath, FloatList, NoHash, TextEcho};
use hyphae_keys::Keypair;
use hyphae_neuron::dendrite::{AxonInfo, Dendrite, DendriteConfig};
use hyphae_neuron::impl_synapse;
use hyphae_neuron::synapse::SynapseMessage;
use serde::{Deserialize, Serialize};

#[derive(Parser)]
struct Args {
    host: String,
    port: u16,
    axon_hotkey: String,
    #[arg(long, default_value_t = 12.0)]
    timeout: f64,
    /// Skip the error-path checks.
    #[arg(long)]
    no_negative: bool,
    /// Only check the streaming StreamWords synapse.
    #[arg(long)]
    stream_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NotServed {
    #[serde(default)]
    q: i64,
}
impl_synapse!(NotServed {
    hash: [],
    required: []
});

struct Report {
    failed: Vec<String>,
    passed: usize,
}

impl Report {
    fn check<S: std::fmt::Debug>(&mut self, name: &str, ok: bool, message: &SynapseMessage<S>) {
        println!(
            "{}",
            serde_json::json!({
                "check": name, "ok": ok,
                "status_code": message.dendrite.status_code,
                "status_message": message.dendrite.status_message,
                "body": format!("{:?}", message.body),
            })
        );
        if ok {
            self.passed = self.passed.saturating_add(1);
        } else {
            self.failed.push(name.to_owned());
        }
    }
}

#[allow(clippy::float_arithmetic)]
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[allow(clippy::float_arithmetic)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = AxonInfo {
        ip: args.host.clone(),
        port: args.port,
        hotkey: args.axon_hotkey.clone(),
    };
    let dendrite = Dendrite::new(
        Keypair::from_uri("//Bob").context("key")?,
        DendriteConfig::default(),
    )?;
    let t = args.timeout;
    let mut report = Report {
        failed: Vec::new(),
        passed: 0,
    };

    if args.stream_only {
        let reply = dendrite
            .call_stream(
                &target,
                common::StreamWords {
                    prompt: "stream these four words".into(),
                    ..Default::default()
                },
                t,
            )
            .await;
        let mut text = String::new();
        let mut n_chunks = 0usize;
        if let Some(mut chunks) = reply.chunks {
            use futures_util::StreamExt;
            while let Some(chunk) = chunks.next().await {
                n_chunks = n_chunks.saturating_add(1);
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        println!(
            "{}",
            serde_json::json!({"stream_text": text, "chunks": n_chunks})
        );
        let ok = reply.message.is_success() && text == "STREAM THESE FOUR WORDS ";
        report.check("StreamWords", ok, &reply.message);
        println!(
            "{}",
            serde_json::json!({"summary": {"passed": report.passed, "failed": report.failed.len(),
                "failed_checks": report.failed, "dendrite_hotkey": dendrite.hotkey()}})
        );
        std::process::exit(if report.failed.is_empty() { 0 } else { 1 });
    }

    let r = dendrite
        .call(
            &target,
            DummyMath {
                a: 6,
                b: 7,
                c: -5,
                result: None,
            },
            t,
        )
        .await;
    report.check("DummyMath", r.is_success() && r.body.result == Some(37), &r);
    let r = dendrite
        .call(
            &target,
            DummyMath {
                a: 1 << 40,
                b: 3,
                c: 1,
                result: None,
            },
            t,
        )
        .await;
    report.check(
        "DummyMath_big",
        r.is_success() && r.body.result == Some(3 * (1 << 40) + 1),
        &r,
    );

    let values = vec![1.5, -2.25, 3.0, 0.1, 1e-7];
    let r = dendrite
        .call(
            &target,
            FloatList {
                values: values.clone(),
                ..FloatList::default()
            },
            t,
        )
        .await;
    let doubled_ok = r.body.doubled.as_ref().is_some_and(|d| {
        d.len() == values.len() && d.iter().zip(&values).all(|(x, v)| close(*x, 2.0 * v))
    });
    let sum: f64 = values.iter().sum();
    let total_ok = r.body.total.is_some_and(|x| close(x, sum));
    report.check("FloatList", r.is_success() && doubled_ok && total_ok, &r);

    let text = "Hello, Bittensor! ünïcödé ✓";
    let r = dendrite
        .call(
            &target,
            TextEcho {
                text: text.to_owned(),
                ..TextEcho::default()
            },
            t,
        )
        .await;
    let ok = r.is_success()
        && r.body.upper.as_deref() == Some(text.to_uppercase().as_str())
        && r.body.reversed_text == Some(text.chars().rev().collect())
        && r.body.length == Some(27);
    report.check("TextEcho", ok, &r);

    let r = dendrite.call(&target, NoHash { x: 41, y: None }, t).await;
    report.check("NoHash", r.is_success() && r.body.y == Some(42), &r);

    let ping = dendrite
        .call(&target, hyphae_neuron::synapse::Ping {}, t)
        .await;
    report.check("Ping", ping.is_success(), &ping);

    if !args.no_negative {
        let r = dendrite.call(&target, NotServed { q: 1 }, t).await;
        report.check(
            "neg_unknown_synapse",
            r.dendrite.status_code == Some(404),
            &r,
        );

        let eve = Dendrite::new(
            Keypair::from_uri(common::BLACKLISTED_URI).context("key")?,
            DendriteConfig::default(),
        )?;
        let r = eve
            .call(
                &target,
                TextEcho {
                    text: "hi".to_owned(),
                    ..TextEcho::default()
                },
                t,
            )
            .await;
        report.check("neg_blacklisted", r.dendrite.status_code == Some(403), &r);

        let mut prepared = dendrite.prepare(
            &target,
            DummyMath {
                a: 1,
                b: 2,
                ..DummyMath::default()
            },
            t,
        );
        let zero_sig = format!("0x{}", "00".repeat(64));
        for (name, value) in &mut prepared.headers {
            if name == "bt_header_dendrite_signature" {
                value.clone_from(&zero_sig);
            }
        }
        let r = dendrite.send_prepared(prepared, t).await;
        report.check("neg_bad_signature", r.dendrite.status_code == Some(401), &r);

        let fresh = Dendrite::new(
            Keypair::from_uri("//Bob").context("key")?,
            DendriteConfig::default(),
        )?;
        let stale = hyphae_neuron::axon::now_ns().saturating_sub(72_000_000_000);
        let prepared = fresh.prepare_with_nonce(
            &target,
            DummyMath {
                a: 1,
                b: 2,
                ..DummyMath::default()
            },
            t,
            stale,
        );
        let r = fresh.send_prepared(prepared, t).await;
        report.check("neg_stale_nonce", r.dendrite.status_code == Some(401), &r);

        let fresh = Dendrite::new(
            Keypair::from_uri("//Bob").context("key")?,
            DendriteConfig::default(),
        )?;
        let nonce = hyphae_neuron::axon::now_ns();
        let first = fresh.prepare_with_nonce(
            &target,
            DummyMath {
                a: 2,
                b: 2,
                ..DummyMath::default()
            },
            t,
            nonce,
        );
        let r1 = fresh.send_prepared(first.clone(), t).await;
        let r2 = fresh.send_prepared(first, t).await;
        report.check(
            "neg_replayed_nonce",
            r1.is_success() && r2.dendrite.status_code == Some(401),
            &r2,
        );

        let mut prepared = dendrite.prepare(
            &target,
            DummyMath {
                a: 5,
                b: 5,
                ..DummyMath::default()
            },
            t,
        );
        let mut tampered = prepared.message.clone();
        tampered.body.a = 6;
        prepared.body = serde_json::to_vec(&tampered)?;
        let r = dendrite.send_prepared(prepared, t).await;
        report.check(
            "neg_body_hash_mismatch",
            r.dendrite.status_code.is_some_and(|c| c != 200),
            &r,
        );

        let dead = AxonInfo {
            ip: "127.0.0.1".to_owned(),
            port: 1,
            hotkey: args.axon_hotkey.clone(),
        };
        let r = dendrite.call(&dead, NoHash { x: 1, y: None }, t).await;
        report.check(
            "neg_connection_refused",
            r.dendrite.status_code == Some(503),
            &r,
        );
    }

    println!(
        "{}",
        serde_json::json!({"summary": {"passed": report.passed, "failed": report.failed.len(),
            "failed_checks": report.failed, "dendrite_hotkey": dendrite.hotkey()}})
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        std::process::exit(1)
    }
}

//! Load benchmark: requests/s and p50/p99 latency of an axon serving the interop synapses,
//! every request signed and verified (sr25519) on loopback.
//!
//! usage:
//!   axon_bench [--concurrency C] [--duration-s D]              # in-process hyphae axon
//!   axon_bench --target HOST:PORT --hotkey SS58 [...]         # any axon, e.g. py_axon.py
//!
//! Each of the C workers has its own dendrite (own uuid, own keep-alive connection) and sends
//! DummyMath requests back to back. Prints one JSON line.

// A measuring tool, not library code: plain arithmetic on times and counts.
#![allow(
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic,
    clippy::indexing_slicing
)]

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use common::DummyMath;
use hyphae_keys::Keypair;
use hyphae_neuron::axon::{Axon, AxonConfig};
use hyphae_neuron::dendrite::{AxonInfo, Dendrite, DendriteConfig};

#[derive(Parser)]
struct Args {
    /// Axon to load; without it an in-process hyphae axon is started.
    #[arg(long)]
    target: Option<std::net::SocketAddr>,
    /// The target axon's hotkey (with --target).
    #[arg(long)]
    hotkey: Option<String>,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Warm-up before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup_s: f64,
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut _server = None;
    let (addr, hotkey) = match (args.target, args.hotkey.clone()) {
        (Some(addr), Some(hotkey)) => (addr, hotkey),
        (Some(_), None) => anyhow::bail!("--target needs --hotkey"),
        _ => {
            let config = AxonConfig {
                bind: "127.0.0.1:0".parse()?,
                ..AxonConfig::default()
            };
            let handle = Axon::new(Keypair::from_uri("//Alice").context("key")?, config)
                .attach(common::forward_math)
                .serve()
                .await?;
            let pair = (handle.local_addr(), handle.hotkey().to_owned());
            _server = Some(handle);
            pair
        }
    };
    let target = AxonInfo {
        ip: addr.ip().to_string(),
        port: addr.port(),
        hotkey,
    };
    let start = Instant::now();
    let warm_until = start + Duration::from_secs_f64(args.warmup_s);
    let end = warm_until + Duration::from_secs_f64(args.duration_s);
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let dendrite = Dendrite::new(
            Keypair::from_uri(&format!("//Bench{worker}")).context("key")?,
            DendriteConfig::default(),
        )?;
        let target = target.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i: i64 = 0;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                i = i.wrapping_add(1);
                let r = dendrite
                    .call(
                        &target,
                        DummyMath {
                            a: i,
                            b: 3,
                            ..DummyMath::default()
                        },
                        12.0,
                    )
                    .await;
                let done = Instant::now();
                if sent >= warm_until && done <= end {
                    if r.is_success() && r.body.result == i.checked_mul(3) {
                        latencies.push(done.duration_since(sent));
                    } else {
                        errors = errors.saturating_add(1);
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors = errors.saturating_add(e);
    }
    latencies.sort();
    let rps = latencies.len() as f64 / args.duration_s;
    println!(
        "{}",
        serde_json::json!({
            "target": addr.to_string(),
            "concurrency": args.concurrency,
            "duration_s": args.duration_s,
            "ok": latencies.len(),
            "errors": errors,
            "rps": (rps * 10.0).round() / 10.0,
            "p50_ms": (percentile_ms(&latencies, 0.50) * 1000.0).round() / 1000.0,
            "p99_ms": (percentile_ms(&latencies, 0.99) * 1000.0).round() / 1000.0,
        })
    );
    Ok(())
}

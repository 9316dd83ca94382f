//! Previews the training charts without a training subnet: serves the explorer for a running
//! node and pushes made-up training figures (rising accuracy, falling loss, a shrinking
//! adversaries' share) once a second. The figures are synthetic; use it to look at the page.
//!
//! `cargo run -p hyphae-explorer --example training_preview -- http://127.0.0.1:9944 [port]`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic,
    clippy::cast_precision_loss
)]

use hyphae_explorer::{serve, ExplorerConfig, TrainingEpoch, TrainingFeed};
use hyphae_primitives::{NetUid, Uid};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rpc = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:9944".into());
    let port: u16 = args.next().map_or(0, |port| port.parse().expect("a port"));
    let mut config = ExplorerConfig::new(rpc);
    config.addr.set_port(port);
    let feed = TrainingFeed::new();
    feed.set_subnet(NetUid(1));
    feed.set_roles([
        (Uid(0), "validator".to_owned()),
        (Uid(1), "miner".to_owned()),
        (Uid(2), "miner".to_owned()),
        (Uid(3), "adversary: poison".to_owned()),
    ]);
    let explorer = serve(config, feed.clone()).await.expect("explorer");
    println!("{}", explorer.url());
    for epoch in 1u64.. {
        let x = epoch as f64;
        feed.push(TrainingEpoch {
            epoch,
            block: None,
            accuracy: 0.95 - 0.6 / (1.0 + x),
            loss: 2.0 / (1.0 + x),
            baseline_accuracy: Some(0.93),
            adversary_emission_share: Some(0.25 / x),
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

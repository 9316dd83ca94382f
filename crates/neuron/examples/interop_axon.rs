//! Interop fixture: a hyphae axon serving DummyMath, FloatList, TextEcho and NoHash with the
//! semantics of `interop_synapses.py`, plus the streaming StreamWords, blacklisting //Eve
//! (HTTP 403).
//!
//! usage: interop_axon --port P [--uri //Alice] [--host 127.0.0.1]
//!
//! Prints one line `{"event":"ready","port":P,"hotkey":"…"}` on stdout, then serves until
//! SIGINT (or until killed).

#[path = "common/mod.rs"]
mod common;

use anyhow::Context;
use clap::Parser;
use hyphae_keys::Keypair;
use hyphae_neuron::axon::{Axon, AxonConfig, Hooks};
use hyphae_neuron::guard::blacklist;

#[derive(Parser)]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8091)]
    port: u16,
    /// Host to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Dev URI or mnemonic of the axon hotkey.
    #[arg(long, default_value = "//Alice")]
    uri: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let keypair = if args.uri.starts_with("//") {
        Keypair::from_uri(&args.uri)
    } else {
        Keypair::from_phrase(&args.uri, None)
    }
    .context("axon key")?;
    let config = AxonConfig {
        bind: std::net::SocketAddr::new(args.host, args.port),
        ..AxonConfig::default()
    };
    let hooks = Hooks {
        blacklist: Some(blacklist::deny_hotkeys(vec![
            common::BLACKLISTED_HOTKEY.to_owned()
        ])),
        priority: None,
    };
    let axon = Axon::new(keypair, config)
        .default_hooks(hooks.clone())
        .attach(common::forward_math)
        .attach(common::forward_floats)
        .attach(common::forward_text)
        .attach(common::forward_nohash)
        .attach_stream(common::forward_stream, hooks);
    let handle = axon.serve().await.context("bind")?;
    println!(
        "{}",
        serde_json::json!({"event": "ready", "port": handle.local_addr().port(), "hotkey": handle.hotkey()})
    );
    tokio::signal::ctrl_c().await.context("signal")?;
    handle.shutdown().await.context("shutdown")?;
    Ok(())
}

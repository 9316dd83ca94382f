//! Shared helpers of the node tests: start a real `hyphae node --dev` on ephemeral loopback
//! ports in a temp dir, run CLI commands against it, and wait on conditions with deadlines.

#![allow(dead_code)]

use serde_json::Value;
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

pub const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
pub const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hyphae"))
}

/// A running node process.
pub struct NodeProc {
    pub child: Child,
    pub rpc: String,
    pub metrics: String,
    pub base: PathBuf,
}

/// Reads `child`'s first stdout line (its `ready` line) within 60 s and parses it; the rest of
/// stdout is drained on a thread so the child never blocks on a full pipe.
pub fn ready_line(child: &mut Child, what: &str) -> Value {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not print its ready line in 60 s"));
    let ready: Value = serde_json::from_str(&line).expect("ready line is JSON");
    assert_eq!(ready["event"], "ready", "{line}");
    ready
}

impl NodeProc {
    pub fn start(base: &Path, block_time_ms: u64) -> NodeProc {
        let mut child = Command::new(bin())
            .args([
                "node",
                "--dev",
                "--rpc-port",
                "0",
                "--metrics-port",
                "0",
                "--output",
                "json",
            ])
            .arg("--base-path")
            .arg(base)
            .arg("--block-time-ms")
            .arg(block_time_ms.to_string())
            .env("HYPHAE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn node");
        let ready = ready_line(&mut child, "node");
        NodeProc {
            child,
            rpc: ready["rpc"].as_str().unwrap().to_owned(),
            metrics: ready["metrics"].as_str().unwrap().to_owned(),
            base: base.to_owned(),
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (deadline 30 s) and returns its exit status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "node did not exit within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `hyphae <args> --rpc-url <rpc> --output json`, asserting success; parses stdout.
    pub fn cli(&self, args: &[&str]) -> Value {
        let output = self.cli_raw(args);
        assert!(
            output.status.success(),
            "hyphae {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("stdout is JSON")
    }

    pub fn cli_raw(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin())
            .args(args)
            .args(["--rpc-url", &self.rpc, "--output", "json"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// One HTTP/1.1 JSON-RPC POST with a raw body; returns (status line, body).
    pub fn post(&self, body: &[u8]) -> (String, String) {
        let addr = self.rpc.trim_start_matches("http://");
        post_raw(addr, body)
    }

    pub fn call(&self, method: &str, params: Value) -> Value {
        let body =
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let (_, text) = self.post(body.to_string().as_bytes());
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }

    pub fn best(&self) -> u64 {
        self.call("chain_getHead", serde_json::json!([]))["result"]["best"]["number"]
            .as_u64()
            .unwrap()
    }

    /// Waits until `done` holds, checking every 20 ms, for at most `limit`.
    pub fn wait_until(&self, limit: Duration, what: &str, mut done: impl FnMut(&NodeProc) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out after {limit:?} waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn post_raw(addr: &str, body: &[u8]) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a huge body; a reset while writing is fine.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, decode_chunked(&body))
}

/// Joins an HTTP chunked body (the server may chunk); returns other bodies unchanged.
fn decode_chunked(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.is_empty() {
        return body.to_owned();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

/// A spawned `hyphae` process, killed on drop.
pub struct Spawned(pub Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `cmd` (which must print JSON) and returns it with its first stdout line, read within
/// 60 s: a `ready` line, or the error document of a start that failed.
pub fn first_json_line(cmd: &mut Command) -> (Spawned, Value) {
    let child = cmd
        .env("HYPHAE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn hyphae");
    let mut spawned = Spawned(child);
    let stdout = spawned.0.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = sender.send(lines.next().and_then(Result::ok));
        // Keep draining so the child never blocks on a full pipe.
        for _ in lines {}
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("no stdout line within 60 s")
        .expect("stdout closed without a line");
    let value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
    (spawned, value)
}

/// The first of `count` consecutive free loopback ports (bound, then released).
pub fn free_port_run(count: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 20_000) as u16;
    for base in (start..60_000).step_by(usize::from(count) + 3) {
        let bound: Vec<_> = (0..count)
            .map_while(|offset| std::net::TcpListener::bind(("127.0.0.1", base + offset)).ok())
            .collect();
        if bound.len() == usize::from(count) {
            return base;
        }
    }
    panic!("no {count} consecutive free ports");
}

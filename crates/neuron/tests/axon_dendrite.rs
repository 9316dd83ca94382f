//! Axon and dendrite over real sockets on 127.0.0.1 (ephemeral ports): every rejection path.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic,
    clippy::panic
)] // test code

#[path = "../examples/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{DummyMath, FloatList, NoHash, StreamWords, TextEcho};
use futures_util::StreamExt;
use hyphae_keys::Keypair;
use hyphae_neuron::axon::{now_ns, Axon, AxonConfig, AxonHandle, ForwardError, Hooks};
use hyphae_neuron::dendrite::{AxonInfo, Dendrite, DendriteConfig, PreparedRequest};
use hyphae_neuron::guard::{blacklist, NeuronDirectory, NeuronInfo, RateLimit};
use hyphae_neuron::impl_synapse;
use hyphae_neuron::nonce::NoncePolicy;
use hyphae_neuron::synapse::{Ping, Synapse, SynapseMessage};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T: f64 = 12.0;

fn key(uri: &str) -> Keypair {
    Keypair::from_uri(uri).unwrap()
}

fn config() -> AxonConfig {
    AxonConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..AxonConfig::default()
    }
}

/// A never-finishing synapse, for timeouts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Hang {
    #[serde(default)]
    n: i64,
}
impl_synapse!(Hang {
    hash: [n],
    required: []
});

/// A failing synapse.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Fail {
    #[serde(default)]
    n: i64,
}
impl_synapse!(Fail {
    hash: [n],
    required: []
});

/// Echoes the caller identity forward sees.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WhoAmI {
    #[serde(default)]
    hotkey: Option<String>,
}
impl_synapse!(WhoAmI {
    hash: [],
    required: []
});

async fn start_with(config: AxonConfig) -> AxonHandle {
    let hooks = Hooks {
        blacklist: Some(blacklist::deny_hotkeys(vec![
            common::BLACKLISTED_HOTKEY.to_owned()
        ])),
        priority: None,
    };
    Axon::new(key("//Alice"), config)
        .default_hooks(hooks.clone())
        .attach(common::forward_math)
        .attach(common::forward_floats)
        .attach(common::forward_text)
        .attach(common::forward_nohash)
        .attach(|_m: SynapseMessage<Hang>| async move {
            std::future::pending::<()>().await;
            Ok(Hang::default())
        })
        .attach(|m: SynapseMessage<WhoAmI>| async move {
            Ok(WhoAmI {
                hotkey: m.dendrite.hotkey,
            })
        })
        .attach(|_m: SynapseMessage<Fail>| async move { Err::<Fail, _>(ForwardError::new("boom")) })
        .attach_stream(common::forward_stream, hooks)
        .serve()
        .await
        .unwrap()
}

async fn start() -> AxonHandle {
    start_with(config()).await
}

fn target(handle: &AxonHandle) -> AxonInfo {
    AxonInfo {
        ip: "127.0.0.1".into(),
        port: handle.local_addr().port(),
        hotkey: handle.hotkey().into(),
    }
}

fn dendrite(uri: &str) -> Dendrite {
    Dendrite::new(key(uri), DendriteConfig::default()).unwrap()
}

fn math(a: i64, b: i64) -> DummyMath {
    DummyMath {
        a,
        b,
        ..DummyMath::default()
    }
}

fn set_header<S>(p: &mut PreparedRequest<S>, name: &str, value: Option<&str>) {
    p.headers.retain(|(n, _)| n != name);
    if let Some(v) = value {
        p.headers.push((name.to_owned(), v.to_owned()));
    }
}

async fn raw_post(url: &str, headers: &[(String, String)], body: Vec<u8>) -> reqwest::Response {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(url)
        .body(body);
    for (n, v) in headers {
        request = request.header(n.as_str(), v.as_str());
    }
    request.send().await.unwrap()
}

fn status_message<S>(m: &SynapseMessage<S>) -> String {
    m.dendrite.status_message.clone().unwrap_or_default()
}

#[tokio::test]
async fn success_headers_and_body_match_python() {
    let axon = start().await;
    let d = dendrite("//Bob");
    let p = d.prepare(
        &target(&axon),
        DummyMath {
            a: 6,
            b: 7,
            c: -5,
            result: None,
        },
        T,
    );
    let response = raw_post(&p.url, &p.headers, p.body.clone()).await;
    assert_eq!(response.status(), 200);
    let h = response.headers();
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["name"], "DummyMath");
    assert_eq!(h["timeout"], "12.0");
    assert_eq!(h["bt_header_axon_status_code"], "200");
    assert_eq!(h["bt_header_axon_status_message"], "Success");
    assert_eq!(h["bt_header_axon_hotkey"], axon.hotkey());
    assert_eq!(h["bt_header_input_obj_a"], "MA==");
    assert_eq!(
        h["computed_body_hash"],
        "4fe11401d642ebf1a50cea9fd3816718122f80c87d3257d17e2896e40942645e"
    );
    // on success the axon's own nonce/uuid/signature are absent, as in Python
    assert!(h.get("bt_header_axon_signature").is_none());
    assert!(h.get("bt_header_axon_nonce").is_none());
    let json: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(json["result"], 37);
    assert_eq!(json["axon"]["status_code"], 200);
    assert_eq!(json["computed_body_hash"], "");
    // the other synapses and the ping route
    let t = target(&axon);
    let r = d
        .call(
            &t,
            FloatList {
                values: vec![1.0, 2.5],
                ..FloatList::default()
            },
            T,
        )
        .await;
    assert_eq!(r.body.total, Some(3.5));
    let r = d
        .call(
            &t,
            TextEcho {
                text: "ab".into(),
                ..TextEcho::default()
            },
            T,
        )
        .await;
    assert_eq!(r.body.reversed_text.as_deref(), Some("ba"));
    let r = d.call(&t, NoHash { x: 1, y: None }, T).await;
    assert!(r.is_success() && r.body.y == Some(2));
    let r = d.call(&t, hyphae_neuron::synapse::Ping {}, T).await;
    assert!(r.is_success(), "{r:?}");
    assert!(r.dendrite.process_time.is_some());
    let metrics = axon.metrics_text();
    assert!(metrics.contains("hyphae_axon_requests_total"), "{metrics}");
    assert!(metrics.contains("synapse=\"DummyMath\""), "{metrics}");
}

#[tokio::test]
async fn unknown_synapse_is_404_with_python_message() {
    let axon = start().await;
    let d = dendrite("//Bob");
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct NotServed {
        #[serde(default)]
        q: i64,
    }
    impl_synapse!(NotServed {
        hash: [],
        required: []
    });
    let r = d.call(&target(&axon), NotServed { q: 1 }, T).await;
    assert_eq!(r.dendrite.status_code, Some(404));
    assert_eq!(
        status_message(&r),
        "Synapse name 'NotServed' not found. Available synapses ['Synapse', 'DummyMath', \
         'FloatList', 'TextEcho', 'NoHash', 'Hang', 'WhoAmI', 'Fail', 'StreamWords']"
    );
}

#[tokio::test]
async fn blacklisted_hotkey_is_403() {
    let axon = start().await;
    let r = dendrite(common::BLACKLISTED_URI)
        .call(&target(&axon), math(1, 2), T)
        .await;
    assert_eq!(r.dendrite.status_code, Some(403));
    assert_eq!(
        status_message(&r),
        format!(
            "Forbidden. Key is blacklisted: hotkey {} is blacklisted.",
            common::BLACKLISTED_HOTKEY
        )
    );
    // error responses carry the axon's signed terminal, as in Python
    assert!(r.axon.signature.as_deref().is_some_and(|s| s.len() == 130));
    assert!(r.axon.nonce.is_some());
}

#[tokio::test]
async fn directory_blacklists() {
    let directory: Arc<dyn NeuronDirectory> = Arc::new(|hotkey: &str| {
        (hotkey == key("//Bob").account_id().to_ss58()).then_some(NeuronInfo {
            uid: 1,
            stake_rao: 5,
            validator_permit: false,
        })
    });
    let hooks = |b| Hooks {
        blacklist: Some(b),
        priority: None,
    };
    let axon = Axon::new(key("//Alice"), config())
        .attach_with(
            common::forward_math,
            hooks(blacklist::registered_only(Arc::clone(&directory))),
        )
        .attach_with(
            common::forward_text,
            hooks(blacklist::min_stake(Arc::clone(&directory), 10)),
        )
        .attach_with(
            common::forward_nohash,
            hooks(blacklist::validator_permit_only(directory)),
        )
        .serve()
        .await
        .unwrap();
    let t = target(&axon);
    assert!(dendrite("//Bob").call(&t, math(1, 1), T).await.is_success());
    assert_eq!(
        dendrite("//Charlie")
            .call(&t, math(1, 1), T)
            .await
            .dendrite
            .status_code,
        Some(403)
    );
    let r = dendrite("//Bob").call(&t, TextEcho::default(), T).await;
    assert_eq!(r.dendrite.status_code, Some(403));
    assert!(status_message(&r).contains("below the minimum"));
    let r = dendrite("//Bob").call(&t, NoHash::default(), T).await;
    assert_eq!(r.dendrite.status_code, Some(403));
}

async fn expect_401<S: Synapse + std::fmt::Debug>(
    d: &Dendrite,
    p: PreparedRequest<S>,
    contains: &str,
) {
    let r = d.send_prepared(p, T).await;
    assert_eq!(r.dendrite.status_code, Some(401), "{r:?}");
    let message = status_message(&r);
    assert!(
        message.starts_with("Not Verified with error: "),
        "{message}"
    );
    assert!(
        message.contains(contains),
        "{message} does not contain {contains}"
    );
}

#[tokio::test]
async fn verification_failures_are_401() {
    let axon = start().await;
    let t = target(&axon);
    let d = dendrite("//Bob");

    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(
        &mut p,
        "bt_header_dendrite_signature",
        Some(&format!("0x{}", "00".repeat(64))),
    );
    expect_401(&d, p, "Signature mismatch with ").await;

    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(&mut p, "bt_header_dendrite_signature", None);
    expect_401(&d, p, "Missing Signature").await;

    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(&mut p, "bt_header_dendrite_signature", Some(""));
    expect_401(&d, p, "Missing Signature").await;

    let mut p = d.prepare(&t, math(1, 2), T);
    let sig = p.message.dendrite.signature.clone().unwrap();
    set_header(
        &mut p,
        "bt_header_dendrite_signature",
        Some(sig.trim_start_matches("0x")),
    );
    expect_401(&d, p, "Expected hex string").await;

    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(&mut p, "bt_header_dendrite_nonce", None);
    expect_401(&d, p, "Missing Nonce").await;

    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(&mut p, "bt_header_dendrite_hotkey", None);
    expect_401(&d, p, "No SS58 formatted address or public key provided.").await;

    // signed for another axon's hotkey: the axon checks against its OWN hotkey
    let other = AxonInfo {
        hotkey: key("//Dave").account_id().to_ss58(),
        ..t.clone()
    };
    let p = d.prepare(&other, math(1, 2), T);
    expect_401(&d, p, "Signature mismatch").await;

    // stale first nonce
    let stale = now_ns() - 72_000_000_000;
    let p = dendrite("//Bob").prepare_with_nonce(&t, math(1, 2), T, stale);
    expect_401(
        &d,
        p,
        "Nonce is too old: acceptable delta is 16.00 seconds but request was 72.",
    )
    .await;

    // future nonce (hyphae is stricter than Python)
    let future = now_ns() + 3_600_000_000_000;
    let p = dendrite("//Bob").prepare_with_nonce(&t, math(1, 2), T, future);
    expect_401(&d, p, "Nonce is too far in the future").await;

    // replay on the same hotkey:uuid
    let fresh = dendrite("//Bob");
    let p = fresh.prepare_with_nonce(&t, math(1, 2), T, now_ns());
    assert!(fresh.send_prepared(p.clone(), T).await.is_success());
    expect_401(
        &fresh,
        p,
        "Nonce is too old, a newer one was last processed",
    )
    .await;
    // and the next proper nonce still works
    assert!(fresh.call(&t, math(1, 2), T).await.is_success());
}

#[tokio::test]
async fn body_and_header_errors() {
    let axon = start().await;
    let t = target(&axon);
    let d = dendrite("//Bob");

    // missing bt_header_input_obj_* placeholder: Python answers 500
    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(&mut p, "bt_header_input_obj_a", None);
    let r = d.send_prepared(p, T).await;
    assert_eq!(r.dendrite.status_code, Some(500));
    assert!(status_message(&r).starts_with("Internal Server Error #"));

    // body changed after signing: hash mismatch → 500
    let mut p = d.prepare(&t, math(5, 5), T);
    let mut tampered = p.message.clone();
    tampered.body.a = 6;
    p.body = serde_json::to_vec(&tampered).unwrap();
    assert_eq!(d.send_prepared(p, T).await.dendrite.status_code, Some(500));

    // not JSON → FastAPI's 422 without bt headers
    let p = d.prepare(&t, math(1, 2), T);
    let response = raw_post(&p.url, &p.headers, b"{not json".to_vec()).await;
    assert_eq!(response.status(), 422);
    assert!(response
        .headers()
        .get("bt_header_axon_status_code")
        .is_none());
    let json: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert!(json["detail"].is_array());

    // JSON of the wrong types → 500
    let p = d.prepare(&t, math(1, 2), T);
    let response = raw_post(&p.url, &p.headers, br#"{"a": "x", "b": []}"#.to_vec()).await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.headers()["bt_header_axon_status_code"], "500");

    // forward error → 500
    let r = d.call(&t, Fail::default(), T).await;
    assert_eq!(r.dendrite.status_code, Some(500));

    // malformed nonce header → 500 (pydantic would fail to build the synapse)
    let mut p = d.prepare(&t, math(1, 2), T);
    set_header(&mut p, "bt_header_dendrite_nonce", Some("soon"));
    assert_eq!(d.send_prepared(p, T).await.dendrite.status_code, Some(500));
}

#[tokio::test]
async fn body_size_limit_is_413() {
    let axon = start_with(AxonConfig {
        body_limit_bytes: 1024,
        ..config()
    })
    .await;
    let d = dendrite("//Bob");
    let big = TextEcho {
        text: "x".repeat(4096),
        ..TextEcho::default()
    };
    let r = d.call(&target(&axon), big, T).await;
    assert_eq!(r.dendrite.status_code, Some(413));
}

#[tokio::test]
async fn server_side_timeout_is_408() {
    let axon = start().await;
    let d = dendrite("//Bob");
    // the server's deadline (0.3 s) fires before the client's (5 s)
    let mut p = d.prepare(&target(&axon), Hang::default(), 0.3);
    set_header(&mut p, "timeout", Some("0.3"));
    let r = d.send_prepared(p, 5.0).await;
    assert_eq!(r.dendrite.status_code, Some(408), "{r:?}");
    assert_eq!(status_message(&r), "Response timeout after: 0.3s");
}

#[tokio::test]
async fn rate_limit_is_429() {
    let limit = RateLimit {
        base_per_s: 0.001,
        per_tao_per_s: 0.0,
        max_per_s: 1.0,
        burst_s: 1.0,
        capacity: 16,
    };
    let axon = start_with(AxonConfig {
        rate_limit: Some(limit),
        ..config()
    })
    .await;
    let d = dendrite("//Bob");
    let t = target(&axon);
    assert!(d.call(&t, math(1, 1), T).await.is_success());
    let r = d.call(&t, math(1, 1), T).await;
    assert_eq!(r.dendrite.status_code, Some(429));
    // another hotkey has its own bucket
    assert!(dendrite("//Charlie")
        .call(&t, math(1, 1), T)
        .await
        .is_success());
}

#[tokio::test]
async fn full_queue_is_503() {
    let axon = start_with(AxonConfig {
        slots: 1,
        waiting_max: 0,
        ..config()
    })
    .await;
    let t = target(&axon);
    let hang = {
        let d = dendrite("//Bob");
        let t = t.clone();
        tokio::spawn(async move { d.call(&t, Hang::default(), 5.0).await })
    };
    // wait (with a deadline) until the hanging request holds the only slot
    let d = dendrite("//Charlie");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = d.call(&t, math(1, 1), T).await;
        if r.dendrite.status_code == Some(503) {
            assert!(status_message(&r).contains("queue is full"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saturated: {r:?}"
        );
        tokio::task::yield_now().await;
    }
    hang.abort();
}

#[tokio::test]
async fn client_side_errors_map_like_python() {
    // connection refused → 503
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let d = dendrite("//Bob");
    let dead = AxonInfo {
        ip: "127.0.0.1".into(),
        port,
        hotkey: "x".into(),
    };
    let r = d.call(&dead, math(1, 1), T).await;
    assert_eq!(r.dendrite.status_code, Some(503));
    assert_eq!(
        status_message(&r),
        format!("Service unavailable at 127.0.0.1:{port}/DummyMath")
    );

    // a server that never answers → 408
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = silent.accept().await.unwrap();
            held.push(socket);
        }
    });
    let quiet = AxonInfo {
        ip: "127.0.0.1".into(),
        port,
        hotkey: "x".into(),
    };
    let r = d.call(&quiet, math(1, 1), 0.3).await;
    assert_eq!(r.dendrite.status_code, Some(408));
    assert_eq!(status_message(&r), "Request timeout after 0.3 seconds");
    hold.abort();
}

#[tokio::test]
async fn query_many_axons_concurrently_in_order() {
    let a = start().await;
    let b = start().await;
    let d = Dendrite::new(
        key("//Bob"),
        DendriteConfig {
            in_flight_max: 2,
            ..DendriteConfig::default()
        },
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = listener.local_addr().unwrap().port();
    drop(listener);
    let targets = vec![
        target(&a),
        AxonInfo {
            ip: "127.0.0.1".into(),
            port: dead_port,
            hotkey: a.hotkey().into(),
        },
        target(&b),
    ];
    let results = d.query(&targets, &math(3, 4), T).await;
    let codes: Vec<_> = results.iter().map(|r| r.dendrite.status_code).collect();
    assert_eq!(codes, vec![Some(200), Some(503), Some(200)]);
    assert!(results
        .iter()
        .filter(|r| r.is_success())
        .all(|r| r.body.result == Some(12)));
    // back-to-back calls on one dendrite: nonces strictly increase, none is refused
    for i in 0..20 {
        let r = d.call(&target(&a), math(i, 2), T).await;
        assert_eq!(r.body.result, Some(i * 2), "{r:?}");
    }
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn nonces_strictly_increase() {
    let d = dendrite("//Bob");
    let mut last = 0;
    for _ in 0..10_000 {
        let n = d.next_nonce();
        assert!(n > last);
        last = n;
    }
}

#[tokio::test]
async fn streaming_synapse_sends_raw_chunks() {
    let axon = start().await;
    let d = dendrite("//Bob");
    let t = target(&axon);
    let p = d.prepare(
        &t,
        StreamWords {
            prompt: "stream these four words".into(),
            ..Default::default()
        },
        T,
    );
    let response = raw_post(&p.url, &p.headers, p.body.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["bt_header_axon_status_code"], "200");
    assert_eq!(response.text().await.unwrap(), "STREAM THESE FOUR WORDS ");

    let reply = d
        .call_stream(
            &t,
            StreamWords {
                prompt: "a b".into(),
                ..Default::default()
            },
            T,
        )
        .await;
    assert!(reply.message.is_success());
    let chunks: Vec<_> = reply.chunks.unwrap().collect().await;
    let text: String = chunks
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert_eq!(text, "A B ");

    // errors before the stream are ordinary JSON errors
    let reply = dendrite(common::BLACKLISTED_URI)
        .call_stream(
            &t,
            StreamWords {
                prompt: "a".into(),
                ..Default::default()
            },
            T,
        )
        .await;
    assert_eq!(reply.message.dendrite.status_code, Some(403));
    assert!(reply.chunks.is_none());
}

#[tokio::test]
async fn metrics_route_when_enabled() {
    let axon = start_with(AxonConfig {
        metrics_route: true,
        ..config()
    })
    .await;
    let d = dendrite("//Bob");
    assert!(d.call(&target(&axon), math(1, 1), T).await.is_success());
    let url = format!("http://{}/metrics", axon.local_addr());
    let text = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("hyphae_axon_request_duration_seconds"),
        "{text}"
    );
}

#[tokio::test]
async fn forward_sees_the_verified_hotkey_not_the_body_copy() {
    let axon = start().await;
    let d = dendrite("//Bob");
    let mut p = d.prepare(&target(&axon), WhoAmI::default(), T);
    let mut spoofed = p.message.clone();
    spoofed.dendrite.hotkey = Some(common::BLACKLISTED_HOTKEY.to_owned());
    p.body = serde_json::to_vec(&spoofed).unwrap();
    let r = d.send_prepared(p, T).await;
    assert!(r.is_success(), "{r:?}");
    assert_eq!(r.body.hotkey.as_deref(), Some(d.hotkey()));
}

#[tokio::test]
async fn connection_limit_holds_extra_connections_back_while_all_are_busy() {
    let axon = start_with(AxonConfig {
        connections_max: 1,
        ..config()
    })
    .await;
    let t = target(&axon);
    // a request in progress (2 s server-side timeout) holds the only connection
    let busy = {
        let d = dendrite("//Bob");
        let t = t.clone();
        tokio::spawn(async move { d.call(&t, Hang::default(), 2.0).await })
    };
    let d = dendrite("//Charlie");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = d.call(&t, math(1, 1), 0.5).await;
        if r.dendrite.status_code == Some(408) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never held back: {r:?}"
        );
    }
    // once that request ends, its idle connection makes room and requests flow again
    let r = tokio::time::timeout(Duration::from_secs(10), busy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.dendrite.status_code, Some(408), "{r:?}");
    loop {
        let r = d.call(&t, math(2, 2), 2.0).await;
        if r.is_success() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{r:?}");
    }
}

/// Waits for the server to close `stream`: `Ok(bytes read before the close)`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    match tokio::time::timeout(limit, read_all).await {
        Ok(()) => Ok(seen),
        Err(_) => Err(format!("still open after {limit:?}")),
    }
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_after_the_header_timeout() {
    let axon = start_with(AxonConfig {
        connections_max: 1,
        header_read_timeout: Duration::from_secs(1),
        ..config()
    })
    .await;
    // a socket that never sends a byte
    let mut silent = TcpStream::connect(axon.local_addr()).await.unwrap();
    let seen = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert_eq!(seen, Ok(Vec::new()));
    // a kept-alive connection that goes quiet after one request
    let mut idle = TcpStream::connect(axon.local_addr()).await.unwrap();
    idle.write_all(b"GET /nothing HTTP/1.1\r\nhost: axon\r\n\r\n")
        .await
        .unwrap();
    let seen = read_until_closed(&mut idle, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(seen.starts_with(b"HTTP/1.1 404"), "{seen:?}");
    // the cap's only permit is free again
    let r = dendrite("//Bob")
        .call(&target(&axon), math(1, 1), 2.0)
        .await;
    assert!(r.is_success(), "{r:?}");
}

#[tokio::test]
async fn a_newcomer_at_the_connection_cap_closes_the_longest_idle_connection() {
    let axon = start_with(AxonConfig {
        connections_max: 1,
        ..config()
    })
    .await;
    // connected first, so accepted first (the backlog is FIFO): it holds the only permit
    let mut idle = TcpStream::connect(axon.local_addr()).await.unwrap();
    let r = dendrite("//Bob")
        .call(&target(&axon), math(1, 1), 2.0)
        .await;
    assert!(r.is_success(), "{r:?}");
    let seen = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert_eq!(seen, Ok(Vec::new()));
}

#[tokio::test]
async fn oversized_header_values_are_refused_before_any_decoding() {
    let axon = start().await;
    let t = target(&axon);
    let d = dendrite("//Bob");
    // ~300 KB of valid base58: quadratic to decode as ss58, within hyper's header buffer
    let mut p = d.prepare(&t, Ping {}, T);
    set_header(
        &mut p,
        "bt_header_dendrite_hotkey",
        Some(&"2".repeat(300_000)),
    );
    let attack = tokio::spawn(async move { d.send_prepared(p, T).await });
    let ping = tokio::time::timeout(
        Duration::from_secs(1),
        dendrite("//Charlie").call(&t, Ping {}, T),
    )
    .await
    .expect("a normal ping stalled");
    assert!(ping.is_success(), "{ping:?}");
    let r = tokio::time::timeout(Duration::from_secs(2), attack)
        .await
        .expect("the oversized header was not refused promptly")
        .unwrap();
    assert_eq!(r.dendrite.status_code, Some(431), "{r:?}");
    assert!(status_message(&r).contains("at most 1024 allowed"), "{r:?}");
}

/// Re-signs `p` as `signer` with another dendrite uuid (what a client with its own uuid sends).
fn with_uuid<S: Synapse>(
    p: &mut PreparedRequest<S>,
    signer: &Keypair,
    axon_hotkey: &str,
    uuid: &str,
) {
    let nonce = p.message.dendrite.nonce.unwrap();
    let hotkey = signer.account_id().to_ss58();
    let body_hash = p.message.body.body_hash();
    let message = format!("{nonce}.{hotkey}.{axon_hotkey}.{uuid}.{body_hash}");
    let signature = signer.sign(message.as_bytes()).to_hex();
    set_header(p, "bt_header_dendrite_uuid", Some(uuid));
    set_header(p, "bt_header_dendrite_signature", Some(&signature));
}

#[tokio::test]
async fn an_oversized_uuid_is_refused_even_when_signed() {
    let axon = start().await;
    let t = target(&axon);
    let d = dendrite("//Bob");
    // the re-signing is right: a Python-sized uuid passes
    let mut p = d.prepare(&t, math(1, 2), T);
    with_uuid(
        &mut p,
        &key("//Bob"),
        axon.hotkey(),
        "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    );
    assert!(d.send_prepared(p, T).await.is_success());
    // a 512-byte uuid, correctly signed by its owner, never reaches the nonce memory
    let mut p = d.prepare(&t, math(1, 2), T);
    with_uuid(&mut p, &key("//Bob"), axon.hotkey(), &"u".repeat(512));
    expect_401(&d, p, "uuid is 512 bytes long, at most 64 allowed").await;
}

#[tokio::test]
async fn rate_limited_requests_use_no_nonce_memory() {
    let axon = start_with(AxonConfig {
        nonce: NoncePolicy {
            capacity: 2,
            ..NoncePolicy::default()
        },
        rate_limit: Some(RateLimit {
            base_per_s: 0.001,
            per_tao_per_s: 0.0,
            max_per_s: 1.0,
            burst_s: 1.0,
            capacity: 16,
        }),
        ..config()
    })
    .await;
    let t = target(&axon);
    assert!(dendrite("//Bob").call(&t, math(1, 1), T).await.is_success());
    // Bob again from a new endpoint (new uuid): refused by the rate limit, nothing recorded
    let r = dendrite("//Bob").call(&t, math(1, 1), T).await;
    assert_eq!(r.dendrite.status_code, Some(429), "{r:?}");
    let r = dendrite("//Charlie").call(&t, math(1, 1), T).await;
    assert!(r.is_success(), "{r:?}");
}

#[tokio::test]
async fn unregistered_callers_cannot_exhaust_nonce_memory_for_registered_ones() {
    let bob = key("//Bob").account_id().to_ss58();
    let directory: Arc<dyn NeuronDirectory> =
        Arc::new(move |hotkey: &str| (hotkey == bob).then_some(NeuronInfo::default()));
    let config = AxonConfig {
        nonce: NoncePolicy {
            capacity: 4,
            unregistered_capacity: 4,
            ..NoncePolicy::default()
        },
        ..config()
    };
    let axon = Axon::with_directory(key("//Alice"), config, Some(directory))
        .attach(common::forward_math)
        .serve()
        .await
        .unwrap();
    let t = target(&axon);
    for i in 0..4 {
        let r = dendrite(&format!("//Free{i}"))
            .call(&t, math(1, 1), T)
            .await;
        assert!(r.is_success(), "{r:?}");
    }
    let r = dendrite("//Free4").call(&t, math(1, 1), T).await;
    assert_eq!(r.dendrite.status_code, Some(401), "{r:?}");
    assert!(status_message(&r).contains("Nonce memory full"), "{r:?}");
    let r = dendrite("//Bob").call(&t, math(1, 1), T).await;
    assert!(r.is_success(), "{r:?}");
}

/// The raw HTTP/1.1 request a prepared request is, with only the first `sent` body bytes.
fn raw_request<S>(p: &PreparedRequest<S>, path: &str, sent: usize) -> Vec<u8> {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: axon\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        p.body.len()
    );
    for (name, value) in &p.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&p.body[..sent]);
    bytes
}

#[tokio::test]
async fn a_stalled_body_upload_holds_no_slot() {
    let axon = start_with(AxonConfig {
        slots: 1,
        body_read_timeout: Duration::from_secs(1),
        ..config()
    })
    .await;
    let t = target(&axon);
    // A: signed headers (timeout 12 s), then one body byte, then nothing
    let p = dendrite("//Bob").prepare(&t, math(1, 2), T);
    let mut stalled = TcpStream::connect(axon.local_addr()).await.unwrap();
    stalled
        .write_all(&raw_request(&p, "/DummyMath", 1))
        .await
        .unwrap();
    // B: a normal call is served while A stalls
    let r = tokio::time::timeout(
        Duration::from_secs(2),
        dendrite("//Charlie").call(&t, math(2, 3), 2.0),
    )
    .await
    .expect("call stalled");
    assert!(r.is_success(), "{r:?}");
    // A is answered 408 once the body deadline (not its 12 s timeout) passes
    let mut response = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stalled.read(&mut response))
        .await
        .expect("no answer to the stalled upload")
        .unwrap();
    let text = String::from_utf8_lossy(&response[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test]
async fn body_memory_is_bounded_across_requests() {
    let body_len = {
        // the body's size decides the budget, so measure it first
        let probe = start().await;
        let p = dendrite("//Bob").prepare(&target(&probe), math(1, 2), T);
        p.body.len()
    };
    let axon = start_with(AxonConfig {
        body_limit_bytes: body_len,
        body_memory_max_bytes: body_len,
        body_read_timeout: Duration::from_secs(10),
        ..config()
    })
    .await;
    let t = target(&axon);
    // A holds all but one byte of the budget: its headers, then its body less one byte
    let a = dendrite("//Bob").prepare(&t, math(1, 2), T);
    assert_eq!(a.body.len(), body_len);
    let mut stalled = TcpStream::connect(axon.local_addr()).await.unwrap();
    stalled
        .write_all(&raw_request(&a, "/DummyMath", body_len - 1))
        .await
        .unwrap();
    // B, with a 1 s timeout, cannot get memory for its body while A holds it
    let b = dendrite("//Charlie").prepare(&t, math(1, 2), 1.0);
    let mut waiting = TcpStream::connect(axon.local_addr()).await.unwrap();
    waiting
        .write_all(&raw_request(&b, "/DummyMath", b.body.len()))
        .await
        .unwrap();
    let mut response = vec![0u8; 2048];
    let n = tokio::time::timeout(Duration::from_secs(5), waiting.read(&mut response))
        .await
        .expect("no answer while the budget was held")
        .unwrap();
    let text = String::from_utf8_lossy(&response[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("Request body not received"), "{text}");
    // Once A goes away its memory comes back
    drop(stalled);
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        dendrite("//Dave").call(&t, math(2, 3), T),
    )
    .await
    .expect("call stalled after the budget came back");
    assert!(r.is_success(), "{r:?}");
}

/// A fake axon answering `status` with a body of endless zeros (announced as `length`, or
/// delimited by the connection's close).
async fn endless_axon(status: &'static str, length: Option<u64>) -> AxonInfo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let framing = length.map_or_else(
            || "connection: close".to_owned(),
            |n| format!("content-length: {n}"),
        );
        let head =
            format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{framing}\r\n\r\n");
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let zeros = vec![b'0'; 64 * 1024];
        while socket.write_all(&zeros).await.is_ok() {}
    });
    AxonInfo {
        ip: "127.0.0.1".into(),
        port,
        hotkey: key("//Alice").account_id().to_ss58(),
    }
}

#[tokio::test]
async fn oversized_response_bodies_are_refused_not_buffered() {
    let d = Dendrite::new(
        key("//Bob"),
        DendriteConfig {
            response_body_max_bytes: 256 * 1024,
            ..DendriteConfig::default()
        },
    )
    .unwrap();
    let cases = [
        ("200 OK", Some(100_000_000)),
        ("200 OK", None),
        ("500 Internal Server Error", None),
    ];
    for (status, length) in cases {
        let axon = endless_axon(status, length).await;
        let r = tokio::time::timeout(Duration::from_secs(5), d.call(&axon, math(1, 1), 10.0))
            .await
            .unwrap_or_else(|_| panic!("{status} {length:?}: still reading"));
        assert_eq!(
            r.dendrite.status_code,
            Some(413),
            "{status} {length:?}: {r:?}"
        );
        assert_eq!(status_message(&r), "Response body larger than 262144 bytes");
    }
    // streaming calls bound their error bodies too
    let axon = endless_axon("500 Internal Server Error", None).await;
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        d.call_stream(&axon, math(1, 1), 10.0),
    )
    .await
    .expect("still reading");
    assert_eq!(reply.message.dendrite.status_code, Some(413));
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let (entered_tx, mut entered) = tokio::sync::mpsc::channel(1);
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = Arc::clone(&release);
    let axon = Axon::new(key("//Alice"), config())
        .attach(move |m: SynapseMessage<Hang>| {
            let (gate, entered_tx) = (Arc::clone(&gate), entered_tx.clone());
            async move {
                let _ = entered_tx.send(()).await;
                gate.notified().await;
                Ok(m.body)
            }
        })
        .serve()
        .await
        .unwrap();
    let (t, addr) = (target(&axon), axon.local_addr());
    let call = tokio::spawn(async move { dendrite("//Bob").call(&t, Hang::default(), T).await });
    tokio::time::timeout(Duration::from_secs(10), entered.recv())
        .await
        .unwrap()
        .unwrap();
    let shutdown = tokio::spawn(axon.shutdown());
    // shutting down: the listener is gone, the request is still in progress
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "still accepting");
        tokio::task::yield_now().await;
    }
    release.notify_one();
    let r = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_success(), "{r:?}");
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown did not finish")
        .unwrap()
        .unwrap();
}

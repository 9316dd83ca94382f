//! Synapses: typed request/response messages, their full Python JSON form and their HTTP headers.
//!
//! A Python synapse is one pydantic model holding both the common fields (`name`, `timeout`,
//! `total_size`, `header_size`, the `dendrite` and `axon` terminals, `computed_body_hash`) and the
//! subclass's own fields. Here the user's fields live in a plain serde struct that implements
//! [`Synapse`] (usually through [`impl_synapse!`](crate::impl_synapse)), and
//! [`SynapseMessage`] wraps it with the common fields. Its JSON is exactly the Python
//! `model_dump()` key set and order: common fields first, then the user fields.
//!
//! ```
//! use hyphae_neuron::synapse::{Synapse, SynapseMessage};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, Default, Serialize, Deserialize)]
//! pub struct DummyMath {
//!     pub a: i64,
//!     pub b: i64,
//!     #[serde(default)]
//!     pub c: i64,
//!     #[serde(default)]
//!     pub result: Option<i64>,
//! }
//! hyphae_neuron::impl_synapse!(DummyMath { hash: [a, b, c], required: [a, b] });
//!
//! let message = SynapseMessage::new(DummyMath { a: 6, b: 7, c: -5, result: None });
//! assert_eq!(DummyMath::NAME, "DummyMath");
//! assert_eq!(
//!     message.body.body_hash(),
//!     "4fe11401d642ebf1a50cea9fd3816718122f80c87d3257d17e2896e40942645e"
//! );
//! let json = serde_json::to_string(&message).unwrap();
//! assert!(json.starts_with(r#"{"name":"DummyMath","timeout":12.0,"#));
//! assert!(json.ends_with(r#""computed_body_hash":"","a":6,"b":7,"c":-5,"result":null}"#));
//! ```

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::body_hash::body_hash;
use crate::pyrepr::{float_repr, PyValue};

/// The Python SDK version this crate speaks, as `version_as_int` (10.5.0). Sent as
/// `bt_header_dendrite_version`; Python axons apply the nonce time window only from 7.2.0 on.
pub const SDK_VERSION: u64 = 10_005_000;

/// The default synapse timeout in seconds (Python `Synapse.timeout` default).
pub const DEFAULT_TIMEOUT_S: f64 = 12.0;

/// Name of the built-in ping synapse every axon serves.
pub const PING_SYNAPSE: &str = "Synapse";

/// The longest accepted value of a synapse header (`name`, `timeout`, `bt_header_axon_*`,
/// `bt_header_dendrite_*`, …), in bytes. A Python dendrite's longest is the 130-byte signature
/// (a uuid4 is 36, an ss58 hotkey 48); the cap keeps attacker-sized values away from every
/// decoder behind the header parser (ss58 decoding is quadratic in its input).
pub const HEADER_VALUE_MAX_BYTES: usize = 1024;

/// The longest accepted `bt_header_input_obj_*` value, in bytes. Python sends the base64 JSON of
/// an *empty* value of the field's type (`MA==` for `0`), so real values are a few bytes; the cap
/// is looser only because the JSON of a default value can legitimately be longer.
pub const INPUT_OBJ_HEADER_MAX_BYTES: usize = 8 * 1024;

/// `#[derive(Synapse)]`: see the `hyphae-neuron-macros` crate docs (`#[synapse(hash(a, b))]`
/// on the struct; required fields inferred from `Option`/`#[serde(default)]`).
pub use hyphae_neuron_macros::Synapse;

/// A typed synapse: the fields a Python `bt.Synapse` subclass adds.
///
/// The type name is the synapse name and the route (`POST /{NAME}`). Implement it with
/// [`impl_synapse!`](crate::impl_synapse); fields that are optional in Python must carry
/// `#[serde(default)]` (an `Option` field needs nothing) so that a body lacking them parses.
pub trait Synapse: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The Python class name: the `name` field and the route.
    const NAME: &'static str;
    /// `required_hash_fields`, in the tuple's order.
    const REQUIRED_HASH_FIELDS: &'static [&'static str];

    /// The values of [`Self::REQUIRED_HASH_FIELDS`] as Python sees them, in order.
    fn hash_values(&self) -> Vec<PyValue>;

    /// The fields with no default in the pydantic model, with the JSON text of an empty value of
    /// their type (`0`, `0.0`, `""`, `[]`, `{}`): sent base64-encoded as
    /// `bt_header_input_obj_<field>` placeholders, which a Python axon needs to build the
    /// synapse from headers.
    fn required_placeholders() -> Vec<(&'static str, &'static str)>;

    /// `computed_body_hash`: SHA3-256 over the `str()` renderings of the hash fields.
    fn body_hash(&self) -> String {
        body_hash(self.hash_values().iter())
    }
}

/// The Python base `bt.Synapse` itself, served by every axon as the "ping" route.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ping {}

impl Synapse for Ping {
    const NAME: &'static str = PING_SYNAPSE;
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[];
    fn hash_values(&self) -> Vec<PyValue> {
        Vec::new()
    }
    fn required_placeholders() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// Implements [`Synapse`] for a serde struct.
///
/// `hash` lists `required_hash_fields` in order, `required` lists the fields that have no
/// default in the Python model (they get `bt_header_input_obj_*` placeholders). Hash fields must
/// implement [`ToPyValue`], required fields [`Placeholder`].
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// #[derive(Debug, Clone, Serialize, Deserialize)]
/// pub struct TextEcho {
///     pub text: String,
///     #[serde(default)]
///     pub upper: Option<String>,
/// }
/// hyphae_neuron::impl_synapse!(TextEcho { hash: [text], required: [text] });
/// ```
#[macro_export]
macro_rules! impl_synapse {
    ($ty:ident { hash: [$($hash:ident),* $(,)?], required: [$($required:ident),* $(,)?] $(,)? }) => {
        impl $crate::synapse::Synapse for $ty {
            const NAME: &'static str = stringify!($ty);
            const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[$(stringify!($hash)),*];
            fn hash_values(&self) -> ::std::vec::Vec<$crate::pyrepr::PyValue> {
                ::std::vec![$($crate::synapse::ToPyValue::to_py_value(&self.$hash)),*]
            }
            fn required_placeholders() -> ::std::vec::Vec<(&'static str, &'static str)> {
                ::std::vec![$(
                    (stringify!($required), $crate::synapse::placeholder_of(|s: &$ty| &s.$required))
                ),*]
            }
        }
    };
}

/// The placeholder JSON of a field's type, selected through a field accessor (used by
/// [`impl_synapse!`](crate::impl_synapse)).
pub fn placeholder_of<S, T: Placeholder>(_field: fn(&S) -> &T) -> &'static str {
    T::PLACEHOLDER_JSON
}

/// A value as Python `str()` sees it after pydantic validation (for the body hash).
pub trait ToPyValue {
    /// The Python value.
    fn to_py_value(&self) -> PyValue;
}

macro_rules! int_to_py {
    ($($t:ty),*) => {$(
        impl ToPyValue for $t {
            fn to_py_value(&self) -> PyValue {
                PyValue::Int(i128::from(*self))
            }
        }
        impl Placeholder for $t {
            const PLACEHOLDER_JSON: &'static str = "0";
        }
    )*};
}
int_to_py!(i8, i16, i32, i64, u8, u16, u32, u64);

impl ToPyValue for f64 {
    fn to_py_value(&self) -> PyValue {
        PyValue::Float(*self)
    }
}
impl ToPyValue for bool {
    fn to_py_value(&self) -> PyValue {
        PyValue::Bool(*self)
    }
}
impl ToPyValue for String {
    fn to_py_value(&self) -> PyValue {
        PyValue::Str(self.clone())
    }
}
impl<T: ToPyValue> ToPyValue for Option<T> {
    fn to_py_value(&self) -> PyValue {
        match self {
            Some(value) => value.to_py_value(),
            None => PyValue::None,
        }
    }
}
impl<T: ToPyValue> ToPyValue for Vec<T> {
    fn to_py_value(&self) -> PyValue {
        PyValue::List(self.iter().map(ToPyValue::to_py_value).collect())
    }
}
impl<T: ToPyValue> ToPyValue for BTreeMap<String, T> {
    fn to_py_value(&self) -> PyValue {
        PyValue::Dict(
            self.iter()
                .map(|(key, value)| (PyValue::Str(key.clone()), value.to_py_value()))
                .collect(),
        )
    }
}

/// The JSON of an empty value of a type: what a Python dendrite sends as the
/// `bt_header_input_obj_<field>` placeholder of a required field.
pub trait Placeholder {
    /// JSON text, e.g. `0` for int, `""` for str.
    const PLACEHOLDER_JSON: &'static str;
}
impl Placeholder for f64 {
    const PLACEHOLDER_JSON: &'static str = "0.0";
}
impl Placeholder for bool {
    const PLACEHOLDER_JSON: &'static str = "false";
}
impl Placeholder for String {
    const PLACEHOLDER_JSON: &'static str = "\"\"";
}
impl<T> Placeholder for Vec<T> {
    const PLACEHOLDER_JSON: &'static str = "[]";
}
impl<T> Placeholder for BTreeMap<String, T> {
    const PLACEHOLDER_JSON: &'static str = "{}";
}
impl<T: Placeholder> Placeholder for Option<T> {
    const PLACEHOLDER_JSON: &'static str = T::PLACEHOLDER_JSON;
}

/// Python `TerminalInfo`: one end of a call. Every field is optional and serialised, `null`
/// included, in the Python order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminalInfo {
    /// HTTP-like status code.
    #[serde(default)]
    pub status_code: Option<i64>,
    /// Status message.
    #[serde(default)]
    pub status_message: Option<String>,
    /// Processing time in seconds (a Python float).
    #[serde(default)]
    pub process_time: Option<f64>,
    /// IP address, as text.
    #[serde(default)]
    pub ip: Option<String>,
    /// Port.
    #[serde(default)]
    pub port: Option<u16>,
    /// SDK version as `version_as_int`.
    #[serde(default)]
    pub version: Option<u64>,
    /// Nonce: nanoseconds since the Unix epoch.
    #[serde(default)]
    pub nonce: Option<u64>,
    /// Per-instance uuid.
    #[serde(default)]
    pub uuid: Option<String>,
    /// ss58 hotkey.
    #[serde(default)]
    pub hotkey: Option<String>,
    /// `0x` + 128 hex digits.
    #[serde(default)]
    pub signature: Option<String>,
}

impl TerminalInfo {
    /// `(field, str(value))` for each non-None field, in Python order.
    pub fn header_values(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(v) = self.status_code {
            out.push(("status_code", v.to_string()));
        }
        if let Some(v) = &self.status_message {
            out.push(("status_message", v.clone()));
        }
        if let Some(v) = self.process_time {
            out.push(("process_time", float_repr(v)));
        }
        if let Some(v) = &self.ip {
            out.push(("ip", v.clone()));
        }
        if let Some(v) = self.port {
            out.push(("port", v.to_string()));
        }
        if let Some(v) = self.version {
            out.push(("version", v.to_string()));
        }
        if let Some(v) = self.nonce {
            out.push(("nonce", v.to_string()));
        }
        if let Some(v) = &self.uuid {
            out.push(("uuid", v.clone()));
        }
        if let Some(v) = &self.hotkey {
            out.push(("hotkey", v.clone()));
        }
        if let Some(v) = &self.signature {
            out.push(("signature", v.clone()));
        }
        out
    }

    /// Sets one field from its header text. Unknown fields are ignored, as pydantic does.
    pub fn set_from_header(&mut self, field: &str, value: &str) -> Result<(), HeaderError> {
        let bad = || HeaderError::InvalidValue {
            header: field.to_owned(),
            value: value.chars().take(64).collect(),
        };
        match field {
            "status_code" => self.status_code = Some(parse_py_int(value).ok_or_else(bad)?),
            "status_message" => self.status_message = Some(value.to_owned()),
            "process_time" => self.process_time = Some(parse_py_float(value).ok_or_else(bad)?),
            "ip" => self.ip = Some(value.to_owned()),
            "port" => self.port = Some(value.trim().parse().map_err(|_| bad())?),
            "version" => self.version = Some(value.trim().parse().map_err(|_| bad())?),
            "nonce" => self.nonce = Some(value.trim().parse().map_err(|_| bad())?),
            "uuid" => self.uuid = Some(value.to_owned()),
            "hotkey" => self.hotkey = Some(value.to_owned()),
            "signature" => self.signature = Some(value.to_owned()),
            _ => {}
        }
        Ok(())
    }
}

fn parse_py_int(value: &str) -> Option<i64> {
    value.trim().parse().ok()
}

/// Parses a Python float as text (`12.0`, `1e-07`, `12`); non-finite values are rejected.
pub fn parse_py_float(value: &str) -> Option<f64> {
    let parsed: f64 = value.trim().parse().ok()?;
    parsed.is_finite().then_some(parsed)
}

/// A header that could not be parsed into a synapse field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The value does not parse as the field's type.
    #[error("invalid value {value:?} for header {header}")]
    InvalidValue {
        /// The field or header name.
        header: String,
        /// The value (truncated).
        value: String,
    },
    /// A header value is longer than its cap ([`HEADER_VALUE_MAX_BYTES`] or
    /// [`INPUT_OBJ_HEADER_MAX_BYTES`]); checked before any decoding.
    #[error("header {header} is {len_bytes} bytes long, at most {max_bytes} allowed")]
    TooLong {
        /// The header name.
        header: String,
        /// The value's length, bytes.
        len_bytes: usize,
        /// The cap, bytes.
        max_bytes: usize,
    },
    /// A header value is not UTF-8.
    #[error("header {header} is not valid UTF-8")]
    NotUtf8 {
        /// The header name.
        header: String,
    },
    /// A required field has no `bt_header_input_obj_*` placeholder (Python answers 500).
    #[error("missing placeholder header bt_header_input_obj_{field}")]
    MissingPlaceholder {
        /// The field.
        field: String,
    },
}

fn default_timeout() -> f64 {
    DEFAULT_TIMEOUT_S
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A synapse with the common Python fields: exactly the JSON a Python SDK sends and answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynapseMessage<S> {
    /// The class name; forced to `S::NAME` when parsed.
    #[serde(default)]
    pub name: String,
    /// Total query timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Python-internal size noise.
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_size: i64,
    /// Python-internal size noise.
    #[serde(default, deserialize_with = "null_as_default")]
    pub header_size: i64,
    /// The caller's terminal.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dendrite: TerminalInfo,
    /// The server's terminal.
    #[serde(default, deserialize_with = "null_as_default")]
    pub axon: TerminalInfo,
    /// Always `""` in JSON; the real hash travels in a header.
    #[serde(default, deserialize_with = "null_as_default")]
    pub computed_body_hash: String,
    /// The synapse's own fields.
    #[serde(flatten)]
    pub body: S,
}

impl<S: Synapse> SynapseMessage<S> {
    /// Wraps a synapse with default common fields.
    pub fn new(body: S) -> Self {
        Self {
            name: S::NAME.to_owned(),
            timeout: DEFAULT_TIMEOUT_S,
            total_size: 0,
            header_size: 0,
            dendrite: TerminalInfo::default(),
            axon: TerminalInfo::default(),
            computed_body_hash: String::new(),
            body,
        }
    }

    /// Parses a JSON body as the Python axon and dendrite do (`name` forced to the type name).
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let mut message: Self = serde_json::from_slice(bytes)?;
        S::NAME.clone_into(&mut message.name);
        Ok(message)
    }

    /// The status code the dendrite recorded (HTTP-like; `None` before a call).
    pub fn status_code(&self) -> Option<i64> {
        self.dendrite.status_code
    }

    /// The status message the dendrite recorded.
    pub fn status_message(&self) -> Option<&str> {
        self.dendrite.status_message.as_deref()
    }

    /// Seconds the call took, as the dendrite measured it.
    pub fn process_time(&self) -> Option<f64> {
        self.dendrite.process_time
    }

    /// Python `is_timeout`: status 408.
    pub fn is_timeout(&self) -> bool {
        self.dendrite.status_code == Some(408)
    }

    /// True when the dendrite-side status code is 200 (Python `is_success`).
    pub fn is_success(&self) -> bool {
        self.dendrite.status_code == Some(200)
    }

    /// The request/response headers (`to_headers()` in Python), lower-case, in Python order.
    pub fn to_headers(&self, computed_body_hash: &str) -> Vec<(String, String)> {
        headers_from::<S>(
            self.timeout,
            &self.axon,
            &self.dendrite,
            (self.header_size, self.total_size),
            computed_body_hash,
        )
    }
}

/// The common (non-body) fields of a [`SynapseMessage`]: what its headers are made of.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MessageHead {
    pub timeout: f64,
    pub total_size: i64,
    pub header_size: i64,
    pub dendrite: TerminalInfo,
    pub axon: TerminalInfo,
}

impl MessageHead {
    /// The head of `message`, without its body.
    pub(crate) fn of<S>(message: &SynapseMessage<S>) -> Self {
        Self {
            timeout: message.timeout,
            total_size: message.total_size,
            header_size: message.header_size,
            dendrite: message.dendrite.clone(),
            axon: message.axon.clone(),
        }
    }

    /// [`SynapseMessage::to_headers`] from the head alone (no body needed).
    pub(crate) fn headers<S: Synapse>(&self, computed_body_hash: &str) -> Vec<(String, String)> {
        headers_from::<S>(
            self.timeout,
            &self.axon,
            &self.dendrite,
            (self.header_size, self.total_size),
            computed_body_hash,
        )
    }

    /// The full message: this head with `body`.
    pub(crate) fn with_body<S: Synapse>(self, body: S) -> SynapseMessage<S> {
        SynapseMessage {
            name: S::NAME.to_owned(),
            timeout: self.timeout,
            total_size: self.total_size,
            header_size: self.header_size,
            dendrite: self.dendrite,
            axon: self.axon,
            computed_body_hash: String::new(),
            body,
        }
    }
}

/// The headers of a synapse of type `S`; `sizes` is `(header_size, total_size)`.
fn headers_from<S: Synapse>(
    timeout: f64,
    axon: &TerminalInfo,
    dendrite: &TerminalInfo,
    (header_size, total_size): (i64, i64),
    computed_body_hash: &str,
) -> Vec<(String, String)> {
    let mut out = vec![
        ("name".to_owned(), S::NAME.to_owned()),
        ("timeout".to_owned(), float_repr(timeout)),
    ];
    for (field, value) in axon.header_values() {
        out.push((format!("bt_header_axon_{field}"), value));
    }
    for (field, value) in dendrite.header_values() {
        out.push((format!("bt_header_dendrite_{field}"), value));
    }
    out.extend(input_obj_headers::<S>());
    out.push(("header_size".to_owned(), header_size.to_string()));
    out.push(("total_size".to_owned(), total_size.to_string()));
    out.push((
        "computed_body_hash".to_owned(),
        computed_body_hash.to_owned(),
    ));
    out
}

/// The `bt_header_input_obj_<field>` placeholder headers of a synapse type.
pub fn input_obj_headers<S: Synapse>() -> Vec<(String, String)> {
    S::required_placeholders()
        .into_iter()
        .map(|(field, json)| {
            (
                format!("bt_header_input_obj_{field}"),
                base64::engine::general_purpose::STANDARD.encode(json),
            )
        })
        .collect()
}

/// Refuses a header value over its cap, before anything decodes it.
fn check_value_len(name: &str, value: &[u8]) -> Result<(), HeaderError> {
    let max_bytes = if name.starts_with("bt_header_input_obj_") {
        INPUT_OBJ_HEADER_MAX_BYTES
    } else {
        HEADER_VALUE_MAX_BYTES
    };
    if value.len() > max_bytes {
        return Err(HeaderError::TooLong {
            header: name.to_owned(),
            len_bytes: value.len(),
            max_bytes,
        });
    }
    Ok(())
}

/// What a Python axon reads from request headers alone (`Synapse.from_headers`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderSynapse {
    /// `name` header.
    pub name: Option<String>,
    /// `timeout` header, or the default.
    pub timeout: f64,
    /// `bt_header_dendrite_*`.
    pub dendrite: TerminalInfo,
    /// `bt_header_axon_*`.
    pub axon: TerminalInfo,
    /// `computed_body_hash` header.
    pub computed_body_hash: Option<String>,
    /// `header_size` header.
    pub header_size: i64,
    /// `total_size` header.
    pub total_size: i64,
    /// Decoded `bt_header_input_obj_*` fields (JSON).
    pub input_obj: BTreeMap<String, serde_json::Value>,
}

impl HeaderSynapse {
    /// Parses header pairs (names compared case-insensitively). Never panics. A synapse header
    /// value over [`HEADER_VALUE_MAX_BYTES`] ([`INPUT_OBJ_HEADER_MAX_BYTES`] for
    /// `bt_header_input_obj_*`) is refused with [`HeaderError::TooLong`].
    pub fn parse<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Self, HeaderError> {
        let mut out = HeaderSynapse {
            timeout: DEFAULT_TIMEOUT_S,
            ..HeaderSynapse::default()
        };
        for (raw_name, raw_value) in headers {
            let name = raw_name.to_ascii_lowercase();
            let relevant = name == "name"
                || name == "timeout"
                || name == "computed_body_hash"
                || name == "header_size"
                || name == "total_size"
                || name.starts_with("bt_header_");
            if !relevant {
                continue;
            }
            check_value_len(&name, raw_value)?;
            let value = std::str::from_utf8(raw_value).map_err(|_| HeaderError::NotUtf8 {
                header: name.clone(),
            })?;
            let bad = || HeaderError::InvalidValue {
                header: name.clone(),
                value: value.chars().take(64).collect(),
            };
            if let Some(field) = name.strip_prefix("bt_header_axon_") {
                out.axon.set_from_header(field, value)?;
            } else if let Some(field) = name.strip_prefix("bt_header_dendrite_") {
                out.dendrite.set_from_header(field, value)?;
            } else if let Some(field) = name.strip_prefix("bt_header_input_obj_") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .map_err(|_| bad())?;
                let json = serde_json::from_slice(&decoded).map_err(|_| bad())?;
                out.input_obj.insert(field.to_owned(), json);
            } else {
                match name.as_str() {
                    "name" => out.name = Some(value.to_owned()),
                    "timeout" => out.timeout = parse_py_float(value).ok_or_else(bad)?,
                    "computed_body_hash" => out.computed_body_hash = Some(value.to_owned()),
                    "header_size" => out.header_size = parse_py_int(value).ok_or_else(bad)?,
                    "total_size" => out.total_size = parse_py_int(value).ok_or_else(bad)?,
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Fails like the Python axon (HTTP 500) when a required field of `S` has no placeholder.
    pub fn check_placeholders<S: Synapse>(&self) -> Result<(), HeaderError> {
        for (field, _) in S::required_placeholders() {
            if !self.input_obj.contains_key(field) {
                return Err(HeaderError::MissingPlaceholder {
                    field: field.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// The body hash of a synapse built from its placeholders (what a Python axon reports in
/// `computed_body_hash` on error responses); `None` when the placeholders do not parse as `S`.
pub fn placeholder_body_hash<S: Synapse>() -> Option<String> {
    let mut object = serde_json::Map::new();
    for (field, json) in S::required_placeholders() {
        object.insert(field.to_owned(), serde_json::from_str(json).ok()?);
    }
    let body: S = serde_json::from_value(serde_json::Value::Object(object)).ok()?;
    Some(body.body_hash())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<HeaderSynapse, HeaderError> {
        HeaderSynapse::parse(pairs.iter().map(|(n, v)| (*n, v.as_bytes())))
    }

    #[test]
    fn python_sized_header_values_parse() {
        let hotkey = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
        let uuid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
        let signature = format!("0x{}", "ab".repeat(64));
        let parsed = parse(&[
            ("bt_header_dendrite_hotkey", hotkey),
            ("bt_header_dendrite_uuid", uuid),
            ("bt_header_dendrite_signature", &signature),
            ("bt_header_input_obj_a", "MA=="),
        ]);
        let parsed = parsed.ok().unwrap_or_default();
        assert_eq!(parsed.dendrite.hotkey.as_deref(), Some(hotkey));
        assert_eq!(parsed.dendrite.uuid.as_deref(), Some(uuid));
        assert_eq!(parsed.input_obj.len(), 1);
    }

    #[test]
    fn oversized_header_values_are_refused_before_decoding() {
        let long = "2".repeat(HEADER_VALUE_MAX_BYTES + 1);
        for name in [
            "bt_header_dendrite_hotkey",
            "bt_header_dendrite_uuid",
            "timeout",
            "Name",
        ] {
            assert_eq!(
                parse(&[(name, &long)]),
                Err(HeaderError::TooLong {
                    header: name.to_ascii_lowercase(),
                    len_bytes: HEADER_VALUE_MAX_BYTES + 1,
                    max_bytes: HEADER_VALUE_MAX_BYTES,
                }),
                "{name}"
            );
        }
        // exactly at the cap still parses
        let at_cap = "2".repeat(HEADER_VALUE_MAX_BYTES);
        assert!(parse(&[("bt_header_dendrite_hotkey", &at_cap)]).is_ok());
        // input_obj placeholders have their own, looser cap
        let obj = "A".repeat(INPUT_OBJ_HEADER_MAX_BYTES + 4);
        assert!(matches!(
            parse(&[("bt_header_input_obj_a", &obj)]),
            Err(HeaderError::TooLong {
                max_bytes: INPUT_OBJ_HEADER_MAX_BYTES,
                ..
            })
        ));
        // headers the axon ignores are not its business (hyper bounds them)
        assert!(parse(&[("user-agent", &long)]).is_ok());
    }
}

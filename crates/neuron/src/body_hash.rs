//! The synapse body hash, exactly as the Python SDK computes `computed_body_hash`:
//! SHA3-256 (FIPS-202) over the concatenated lower-case hex SHA3-256 digests of `str(v)` for each
//! field in `required_hash_fields`, in that tuple's order. No `0x` prefix.

use sha3::{Digest, Sha3_256};

use crate::pyrepr::PyValue;

/// Lower-case hex SHA3-256 of a string's UTF-8 bytes.
pub fn sha3_hex(text: &str) -> String {
    hex::encode(Sha3_256::digest(text.as_bytes()))
}

/// The body hash over the given field values, in `required_hash_fields` order.
///
/// With no fields this is `sha3_hex("")`, as in Python.
pub fn body_hash<'a>(fields: impl IntoIterator<Item = &'a PyValue>) -> String {
    let concatenated: String = fields
        .into_iter()
        .map(|value| sha3_hex(&value.to_py_str()))
        .collect();
    sha3_hex(&concatenated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hash_matches_python() {
        assert_eq!(
            body_hash(std::iter::empty()),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
    }
}

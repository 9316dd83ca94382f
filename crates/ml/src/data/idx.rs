//! Reader for the IDX format of MNIST and Fashion-MNIST (`*-idx3-ubyte`, `*-idx1-ubyte`),
//! plain or gzip-compressed (Debian's `dataset-fashion-mnist` ships `.gz` files).
//!
//! Layout: two zero bytes, a type byte (only `0x08`, unsigned bytes, is used by these
//! sets), a dimension count, then each dimension as a big-endian `u32`, then the data.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest decompressed IDX file accepted: bounds memory on hostile or corrupt input.
/// Fashion-MNIST's largest file is 47 MB.
pub const IDX_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// Why an IDX file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error("reading IDX file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is larger than [`IDX_BYTES_MAX`] once decompressed.
    #[error("IDX file {path} exceeds {IDX_BYTES_MAX} bytes")]
    TooLarge { path: PathBuf },
    /// The header is shorter than it declares, or its magic is wrong.
    #[error("IDX file {path} has a malformed header")]
    Header { path: PathBuf },
    /// The element type is not unsigned bytes.
    #[error("IDX file {path} has element type {type_code:#04x}; only 0x08 (u8) is supported")]
    ElementType { path: PathBuf, type_code: u8 },
    /// The data length does not match the product of the dimensions.
    #[error("IDX file {path} declares {expected} data bytes but holds {actual}")]
    Length {
        path: PathBuf,
        expected: usize,
        actual: usize,
    },
}

/// An IDX array of bytes: its dimensions and row-major data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// Row-major data, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Reads an IDX file, transparently gunzipping it when it starts with the gzip magic.
pub fn read_idx(path: &Path) -> Result<IdxArray, IdxError> {
    let raw = read_bounded(path)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip_bounded(path, &raw)?
    } else {
        raw
    };
    parse_idx(path, &bytes)
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, IdxError> {
    let io = |source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    take_bounded(path, file)
}

fn gunzip_bounded(path: &Path, raw: &[u8]) -> Result<Vec<u8>, IdxError> {
    take_bounded(path, flate2::read::GzDecoder::new(raw))
}

/// Reads at most [`IDX_BYTES_MAX`] bytes, failing rather than truncating beyond it.
fn take_bounded(path: &Path, reader: impl Read) -> Result<Vec<u8>, IdxError> {
    let mut bytes = Vec::new();
    reader
        .take(IDX_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| IdxError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > IDX_BYTES_MAX {
        return Err(IdxError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// Parses IDX bytes (already decompressed); `path` is only for error context.
pub fn parse_idx(path: &Path, bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let header = || IdxError::Header {
        path: path.to_path_buf(),
    };
    let [zero_a, zero_b, type_code, n_dims] = *bytes.first_chunk::<4>().ok_or_else(header)?;
    if zero_a != 0 || zero_b != 0 || n_dims == 0 {
        return Err(header());
    }
    if type_code != 0x08 {
        return Err(IdxError::ElementType {
            path: path.to_path_buf(),
            type_code,
        });
    }
    let body = bytes.get(4..).ok_or_else(header)?;
    let dims_len = usize::from(n_dims) * 4;
    let dims: Vec<usize> = body
        .get(..dims_len)
        .ok_or_else(header)?
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let data = body.get(dims_len..).ok_or_else(header)?;
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(header)?;
    if expected != data.len() {
        return Err(IdxError::Length {
            path: path.to_path_buf(),
            expected,
            actual: data.len(),
        });
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// Encodes bytes as an IDX file; used by tests and tools that need small fixtures.
#[must_use]
pub fn encode_idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = encode_idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let array = parse_idx(Path::new("t"), &bytes).unwrap();
        assert_eq!(
            array,
            IdxArray {
                dims: vec![2, 3],
                data: vec![1, 2, 3, 4, 5, 6]
            }
        );
    }

    #[test]
    fn rejects_malformed() {
        let p = Path::new("t");
        assert!(matches!(
            parse_idx(p, &[0, 0, 8]),
            Err(IdxError::Header { .. })
        ));
        assert!(matches!(
            parse_idx(p, &[0, 0, 0x0d, 1, 0, 0, 0, 0]),
            Err(IdxError::ElementType { .. })
        ));
        assert!(matches!(
            parse_idx(p, &encode_idx(&[3], &[1, 2])),
            Err(IdxError::Length {
                expected: 3,
                actual: 2,
                ..
            })
        ));
        assert!(matches!(
            parse_idx(p, &[0, 0, 8, 2, 0, 0]),
            Err(IdxError::Header { .. })
        ));
        let huge = encode_idx(&[u32::MAX, u32::MAX, u32::MAX], &[]);
        assert!(matches!(
            parse_idx(p, &huge),
            Err(IdxError::Header { .. } | IdxError::Length { .. })
        ));
    }
}

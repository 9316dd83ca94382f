//! [`Rao`], the indivisible unit of TAO: 1 TAO = 10⁹ rao.
//!
//! Amounts display as TAO with exactly nine decimals and parse from decimal TAO strings
//! without ever passing through a float, so `"0.1"` is exactly 100 000 000 rao.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Rao in one TAO.
pub const RAO_PER_TAO: u64 = 1_000_000_000;
/// Decimal places of a TAO amount.
pub const TAO_DECIMALS: usize = 9;

/// An amount of TAO (or, in the ledger, of a subnet's alpha) in its smallest unit.
///
/// Arithmetic is checked: every operation that could overflow returns `Option`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Rao(pub u64);

impl Rao {
    /// Zero rao.
    pub const ZERO: Rao = Rao(0);
    /// The largest amount.
    pub const MAX: Rao = Rao(u64::MAX);

    /// The raw count of rao.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// `tao` whole TAO, or `None` on overflow.
    pub fn from_tao(tao: u64) -> Option<Rao> {
        tao.checked_mul(RAO_PER_TAO).map(Rao)
    }

    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Rao) -> Option<Rao> {
        self.0.checked_add(rhs.0).map(Rao)
    }

    /// `self - rhs`, or `None` if `rhs > self`.
    pub fn checked_sub(self, rhs: Rao) -> Option<Rao> {
        self.0.checked_sub(rhs.0).map(Rao)
    }

    /// `self * factor`, or `None` on overflow.
    pub fn checked_mul(self, factor: u64) -> Option<Rao> {
        self.0.checked_mul(factor).map(Rao)
    }

    /// `self / divisor`, truncating, or `None` for a zero divisor.
    pub fn checked_div(self, divisor: u64) -> Option<Rao> {
        self.0.checked_div(divisor).map(Rao)
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Rao {
    /// Whole TAO, a dot, and exactly nine decimals: `1.500000000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RAO_PER_TAO is a non-zero constant, so neither operation can fail.
        let whole = self.0 / RAO_PER_TAO;
        let frac = self.0 % RAO_PER_TAO;
        write!(f, "{whole}.{frac:09}")
    }
}

/// Why a string is not a TAO amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseRaoError {
    /// Nothing to parse.
    #[error("empty amount")]
    Empty,
    /// A character other than a digit or one decimal point.
    #[error("invalid character {found:?} in amount; expected digits and at most one '.'")]
    InvalidCharacter {
        /// The offending character.
        found: char,
    },
    /// More decimals than a rao can hold.
    #[error("too many decimals: {decimals} given, TAO has at most {max}", max = TAO_DECIMALS)]
    TooManyDecimals {
        /// Decimals in the input.
        decimals: usize,
    },
    /// The amount does not fit in a u64 of rao.
    #[error("amount too large: at most {} TAO", Rao::MAX)]
    Overflow,
}

impl FromStr for Rao {
    type Err = ParseRaoError;

    /// Parses decimal TAO (`"1.5"`, `"0.000000001"`, `"21000000"`) exactly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (whole, frac) = match s.split_once('.') {
            Some((whole, frac)) => (whole, frac),
            None => (s, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(ParseRaoError::Empty);
        }
        if let Some(found) = whole
            .chars()
            .chain(frac.chars())
            .find(|c| !c.is_ascii_digit())
        {
            return Err(ParseRaoError::InvalidCharacter { found });
        }
        if frac.len() > TAO_DECIMALS {
            return Err(ParseRaoError::TooManyDecimals {
                decimals: frac.len(),
            });
        }
        let whole_tao = parse_digits(whole)?;
        let frac_digits = parse_digits(frac)?;
        let pad = TAO_DECIMALS
            .checked_sub(frac.len())
            .and_then(|p| u32::try_from(p).ok())
            .ok_or(ParseRaoError::TooManyDecimals {
                decimals: frac.len(),
            })?;
        let frac_rao = 10u64
            .checked_pow(pad)
            .and_then(|scale| frac_digits.checked_mul(scale))
            .ok_or(ParseRaoError::Overflow)?;
        whole_tao
            .checked_mul(RAO_PER_TAO)
            .and_then(|r| r.checked_add(frac_rao))
            .map(Rao)
            .ok_or(ParseRaoError::Overflow)
    }
}

fn parse_digits(digits: &str) -> Result<u64, ParseRaoError> {
    digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u64::from(b.wrapping_sub(b'0'))))
            .ok_or(ParseRaoError::Overflow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!("1.5".parse::<Rao>(), Ok(Rao(1_500_000_000)));
        assert_eq!("0.1".parse::<Rao>(), Ok(Rao(100_000_000)));
        assert_eq!("0.000000001".parse::<Rao>(), Ok(Rao(1)));
        assert_eq!(".5".parse::<Rao>(), Ok(Rao(500_000_000)));
        assert_eq!("21000000".parse::<Rao>(), Ok(Rao(21_000_000 * RAO_PER_TAO)));
        assert_eq!("18446744073.709551615".parse::<Rao>(), Ok(Rao::MAX));
    }

    #[test]
    fn rejects_bad_amounts() {
        assert_eq!("".parse::<Rao>(), Err(ParseRaoError::Empty));
        assert_eq!(".".parse::<Rao>(), Err(ParseRaoError::Empty));
        assert_eq!(
            "-1".parse::<Rao>(),
            Err(ParseRaoError::InvalidCharacter { found: '-' })
        );
        assert_eq!(
            "1e9".parse::<Rao>(),
            Err(ParseRaoError::InvalidCharacter { found: 'e' })
        );
        assert_eq!(
            "1.2.3".parse::<Rao>(),
            Err(ParseRaoError::InvalidCharacter { found: '.' })
        );
        assert_eq!(
            "0.0000000001".parse::<Rao>(),
            Err(ParseRaoError::TooManyDecimals { decimals: 10 })
        );
        assert_eq!(
            "18446744073.709551616".parse::<Rao>(),
            Err(ParseRaoError::Overflow)
        );
        assert_eq!(
            "99999999999999999999".parse::<Rao>(),
            Err(ParseRaoError::Overflow)
        );
    }

    #[test]
    fn displays_nine_decimals() {
        assert_eq!(Rao(0).to_string(), "0.000000000");
        assert_eq!(Rao(1).to_string(), "0.000000001");
        assert_eq!(Rao(1_500_000_000).to_string(), "1.500000000");
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(Rao::MAX.checked_add(Rao(1)), None);
        assert_eq!(Rao(1).checked_sub(Rao(2)), None);
        assert_eq!(Rao(3).checked_div(0), None);
        assert_eq!(Rao::from_tao(2), Some(Rao(2 * RAO_PER_TAO)));
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(raw in any::<u64>()) {
            let rao = Rao(raw);
            prop_assert_eq!(rao.to_string().parse::<Rao>(), Ok(rao));
        }

        #[test]
        fn parse_display_round_trip(whole in 0u64..18_446_744_073, frac in 0u64..RAO_PER_TAO) {
            let text = format!("{whole}.{frac:09}");
            let rao: Rao = text.parse().unwrap();
            prop_assert_eq!(rao.to_string(), text);
        }
    }
}

//! The reference chain's fixed-point arithmetic, reproduced to the bit.
//!
//! Every epoch value is an [`I32F32`]; stake is normalized in [`I64F64`] first and emission
//! amounts are computed in [`I96F32`]. The `substrate-fixed` 0.6.0 rules apply: multiplication
//! floors, division truncates toward zero, narrowing floors. The reference uses saturating
//! operations inside the epoch, so the helpers here do too: that is the specification, not
//! a shortcut.

use substrate_fixed::types::{I32F32, I64F64, I96F32, U96F32};

/// The epoch's working number: signed 32.32 fixed point.
pub(crate) type Fx = I32F32;

pub(crate) const ZERO: Fx = Fx::from_bits(0);
pub(crate) const ONE: Fx = Fx::from_bits(0x1_0000_0000);
/// 0.5, the sigmoid's midpoint in liquid alpha.
const HALF: Fx = Fx::from_bits(0x8000_0000);
/// 65535 as a fixed-point integer: the denominator of every u16 proportion.
#[cfg(test)]
const U16_MAX: Fx = Fx::from_bits(0xFFFF_0000_0000);
/// `exp_safe` clamps its argument to [-20, 20] before exponentiating.
const EXP_MIN: Fx = Fx::from_bits(-20 * 0x1_0000_0000);
const EXP_MAX: Fx = Fx::from_bits(20 * 0x1_0000_0000);

/// `a / b`, or 0 when `b` is 0 or the quotient does not fit (the reference's `safe_div`).
pub(crate) fn safe_div(a: Fx, b: Fx) -> Fx {
    a.checked_div(b).unwrap_or(ZERO)
}

/// `a * b`, floored, clamped to the type's range: the library's `saturating_mul`, computed
/// directly on the bits (a 128-bit product and an arithmetic shift) so the hot loops inline it.
#[inline]
pub(crate) fn mul(a: Fx, b: Fx) -> Fx {
    let product = i128::from(a.to_bits()).wrapping_mul(i128::from(b.to_bits())) >> 32_u32;
    Fx::from_bits(i64::try_from(product).unwrap_or(if product < 0 { i64::MIN } else { i64::MAX }))
}

/// The bits of a value known to lie in [0, 1] (so the cast keeps them), or `None` outside.
#[inline]
pub(crate) fn unit_bits(x: Fx) -> Option<u64> {
    u64::try_from(x.to_bits())
        .ok()
        .filter(|&bits| bits <= ONE_BITS)
}

/// Whether every value lies in [0, 1]: the precondition of the unit-range loops, checked
/// once per vector instead of once per entry.
pub(crate) fn all_in_unit_range(values: &[Fx]) -> bool {
    values.iter().fold(true, |ok, &x| {
        ok & (0..=ONE_BITS as i64).contains(&x.to_bits())
    })
}

/// [`mul`] on the bits of two values in [0, 1]: the product is in [0, 1] too, so the
/// library's floor needs no clamp, and the 128-bit product of two numbers ≤ 2³² is one
/// multiplication. Gives `mul`'s bits for such operands (property-tested).
#[inline(always)]
pub(crate) fn mul_unit(a: u64, b: u64) -> u64 {
    (u128::from(a).wrapping_mul(u128::from(b)) >> 32_u32) as u64
}

/// [`u16_proportion`] as bits (always in [0, 1]).
#[inline(always)]
pub(crate) fn u16_proportion_bits(x: u16) -> u64 {
    (u64::from(x) << 32_u32).wrapping_div(65_535)
}

/// [`fixed_proportion_to_u16`] for the bits of a value known to be non-negative.
#[inline(always)]
pub(crate) fn unit_bits_to_u16(bits: u64) -> u16 {
    if bits < ONE_BITS {
        (bits.wrapping_mul(65_535) >> 32_u32) as u16
    } else {
        u16::MAX
    }
}

/// [`unit_bits_to_u16`] for bits known to be at most 1 (`2³²`): `floor(x·65535)` with no
/// clamp, since 1 itself gives 65535. For a quotient of `divide_share` (at most 1).
#[inline(always)]
pub(crate) fn share_bits_to_u16(bits: u64) -> u16 {
    (bits.wrapping_mul(65_535) >> 32_u32) as u16
}

/// `a + b`, clamped to the type's range: the library's `saturating_add` on the bits (the
/// library computes it with masks, several times the instructions of the native one).
#[inline]
pub(crate) fn add(a: Fx, b: Fx) -> Fx {
    Fx::from_bits(a.to_bits().saturating_add(b.to_bits()))
}

/// `a - b`, clamped to the type's range: the library's `saturating_sub` on the bits.
#[inline]
pub(crate) fn sub(a: Fx, b: Fx) -> Fx {
    Fx::from_bits(a.to_bits().saturating_sub(b.to_bits()))
}

/// A divisor prepared for many exact `safe_div`s by the same value.
///
/// A fixed-point quotient is a 96-by-64-bit integer division, which the library does as a
/// generic 128-bit division (tens of nanoseconds). Normalizing a row or column divides many
/// numerators by one sum, so this precomputes a reciprocal once and then divides with
/// multiplications: Möller and Granlund's 2-by-1 division by an invariant integer
/// ("Improved division by invariant integers", IEEE Trans. Computers 60(2), 2011, alg. 4).
/// The quotient is exact, truncated like the library's; numerators or divisors below zero
/// take the library's path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Divisor {
    divisor: Fx,
    /// The divisor's bits when it is positive, else 0.
    bits: u64,
    /// The divisor shifted so its top bit is set, and 32 + that shift.
    normalized: u64,
    numerator_shift: u32,
    /// `floor((2^128 - 1) / normalized) - 2^64`.
    reciprocal: u64,
    /// The divisor's integer part when it is a positive whole number, else 0.
    whole: u64,
    /// `floor(x·2³² / bits)` for numerators `x < 2³²` (every share in [0, 1)).
    small: Reciprocal,
    /// `floor(x·2³² / whole)` for whole numerators `x·2³²` with `x < 2³²`.
    whole_small: Reciprocal,
}

/// Exact division of `x·2³²` by a fixed `d ≥ 1`, for every `x ≤ 2³²`, by one multiplication.
///
/// With `L = ceil(log2 d)`, `k = max(64 + L, 96)` and `m = ceil(2^k / d) = 2^k/d + e/d`
/// (0 ≤ e < d), `x·m / 2^(k−32) = x·2³²/d + x·e / (d·2^(k−32))`, and
/// `x·e < 2³²·d ≤ 2^(k−32)` keeps the error term below `1/d`: never enough to cross the next
/// integer, so the floor is `floor(x·2³² / d)`. Since `k − 32 ≥ 64`, that floor is the high
/// word of `x·m`, shifted right by `k − 96 ∈ [0, 32]`: with `m = m_high·2⁶⁴ + m_low`
/// (`m_high ≤ 2³²`), the high word is `x·m_high + hi(x·m_low)`, so no 128-bit shift (whose
/// amount could reach 64) is taken. The shift is 0 for every `d < 2³²`.
#[derive(Debug, Clone, Copy)]
struct Reciprocal {
    m_low: u64,
    m_high: u64,
    shift: u32,
}

impl Reciprocal {
    /// The reciprocal of `d`; `d = 0` divides nothing (`quotient` is 0 for it).
    fn new(d: u64) -> Self {
        if d == 0 {
            return Self {
                m_low: 0,
                m_high: 0,
                shift: 0,
            };
        }
        // L = ceil(log2 d), at most 64 for d < 2⁶⁴.
        let l = 64_u32.saturating_sub(d.saturating_sub(1).leading_zeros());
        let k = 96_u32.max(64_u32.saturating_add(l));
        // ceil(2^k / d) = floor((2^k - 1) / d) + 1; k ≤ 128 (2¹²⁸ − 1 is u128::MAX).
        let numerator = 1_u128
            .checked_shl(k)
            .map_or(u128::MAX, |p| p.wrapping_sub(1));
        let m = numerator
            .checked_div(u128::from(d))
            .map_or(0, |q| q.wrapping_add(1));
        Self {
            m_low: m as u64,
            m_high: (m >> 64_u32) as u64,
            shift: k.saturating_sub(96),
        }
    }

    /// `floor(x·2³² / d)` for `x ≤ 2³²`; 0 for the reciprocal of 0.
    #[inline]
    fn quotient(self, x: u64) -> u64 {
        self.high_word(x).wrapping_shr(self.shift)
    }

    /// `floor(x·m / 2⁶⁴)`: the quotient itself where the shift is 0 (`d ≤ 2³²`).
    #[inline(always)]
    fn high_word(self, x: u64) -> u64 {
        ShiftFree {
            m_low: self.m_low,
            m_high: self.m_high,
        }
        .quotient(x)
    }

    /// The reciprocal without its shift, where that is 0 (every `d ≤ 2³²`).
    fn shift_free(self) -> Option<ShiftFree> {
        (self.shift == 0).then_some(ShiftFree {
            m_low: self.m_low,
            m_high: self.m_high,
        })
    }
}

/// A [`Reciprocal`] whose shift is 0 (a divisor `d ≤ 2³²`), kept without it: 16 bytes, and a
/// quotient with no shift to load and apply per entry.
#[derive(Debug, Clone, Copy)]
struct ShiftFree {
    m_low: u64,
    m_high: u64,
}

impl ShiftFree {
    /// `floor(x·2³² / d)` for `x ≤ 2³²`: the high word of `x·m`.
    #[inline(always)]
    fn quotient(self, x: u64) -> u64 {
        let low = (u128::from(x).wrapping_mul(u128::from(self.m_low)) >> 64_u32) as u64;
        x.wrapping_mul(self.m_high).wrapping_add(low)
    }
}

impl Divisor {
    pub(crate) fn new(divisor: Fx) -> Self {
        let bits = u64::try_from(divisor.to_bits()).unwrap_or(0);
        let shift = bits.leading_zeros();
        let normalized = bits.checked_shl(shift).unwrap_or(0);
        let reciprocal = u128::MAX
            .checked_div(u128::from(normalized))
            .map_or(0, |r| {
                u64::try_from(r.wrapping_sub(1 << 64_u32)).unwrap_or(0)
            });
        let whole = if bits & 0xFFFF_FFFF == 0 {
            bits >> 32_u32
        } else {
            0
        };
        Self {
            divisor,
            bits,
            normalized,
            numerator_shift: shift.saturating_add(32),
            reciprocal,
            whole,
            small: Reciprocal::new(bits),
            whole_small: Reciprocal::new(whole),
        }
    }

    /// `safe_div(numerator, divisor)`, bit for bit.
    #[inline]
    pub(crate) fn divide(&self, numerator: Fx) -> Fx {
        // A numerator in [0, 1) (every normalized share) has N = a·2³² below 2⁶⁴: floor(N / d)
        // is one multiplication by the prepared reciprocal (no division instruction).
        if let (Ok(small), true) = (u32::try_from(numerator.to_bits()), self.bits != 0) {
            let quotient = self.small.quotient(u64::from(small));
            return i64::try_from(quotient).map_or(ZERO, Fx::from_bits);
        }
        // A whole divisor d = w·2³² gives floor(a·2³² / d) = floor(a / w), below 2⁶³; for a
        // whole numerator a = x·2³² (classic bonds) that is floor(x·2³² / w) again.
        if let (Ok(a), true) = (u64::try_from(numerator.to_bits()), self.whole != 0) {
            if a & 0xFFFF_FFFF == 0 && a < (1_u64 << 63_u32) {
                return i64::try_from(self.whole_small.quotient(a >> 32_u32))
                    .map_or(ZERO, Fx::from_bits);
            }
            let quotient = a.checked_div(self.whole).unwrap_or(0);
            return i64::try_from(quotient).map_or(ZERO, Fx::from_bits);
        }
        let a = numerator.to_bits() as u64;
        if numerator < ZERO || self.normalized == 0 {
            return safe_div(numerator, self.divisor);
        }
        // N = a * 2^32; its high word is a >> 32. A quotient of 64 bits or more overflows: 0.
        if (a >> 32_u32) >= self.bits {
            return ZERO;
        }
        // N shifted like the divisor, as the 128-bit (u1, u0); `numerator_shift` is below 96.
        let shifted = u128::from(a).wrapping_shl(self.numerator_shift);
        let (u1, u0) = ((shifted >> 64_u32) as u64, shifted as u64);
        let quotient = self.divide_normalized(u1, u0);
        i64::try_from(quotient).map_or(ZERO, Fx::from_bits)
    }

    /// Quotient of `(u1, u0) / normalized`, given `u1 < normalized`.
    #[inline]
    fn divide_normalized(&self, u1: u64, u0: u64) -> u64 {
        let d = self.normalized;
        let product = u128::from(self.reciprocal).wrapping_mul(u128::from(u1));
        let sum = product.wrapping_add((u128::from(u1.wrapping_add(1)) << 64_u32) | u128::from(u0));
        let mut q1 = (sum >> 64_u32) as u64;
        let q0 = sum as u64;
        let mut r = u0.wrapping_sub(q1.wrapping_mul(d));
        if r > q0 {
            q1 = q1.wrapping_sub(1);
            r = r.wrapping_add(d);
        }
        if r >= d {
            q1 = q1.wrapping_add(1);
        }
        q1
    }
}

/// Column normalization: one prepared divisor per column, laid out compactly (64 bytes) for
/// the bond passes, which look one up per entry. `divide` is `safe_div(value, total)` bit for
/// bit, and a column whose total is 0 divides by nothing (returns the value).
#[derive(Debug, Clone)]
pub(crate) struct ColumnDivisors {
    columns: Vec<ColumnDivisor>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnDivisor {
    total: i64,
    /// The total's integer part when it is a positive whole number, else 0.
    whole: u64,
    /// The reciprocal of `whole` when it is not 0, else of the total's bits.
    reciprocal: Reciprocal,
    /// The reciprocal of the total's bits (of 0 where the total is not positive): for
    /// `divide_unit` and `divide_share`.
    share: Reciprocal,
}

impl ColumnDivisors {
    pub(crate) fn new(totals: &[Fx]) -> Self {
        let columns = totals
            .iter()
            .map(|total| {
                let bits = total.to_bits();
                let positive = u64::try_from(bits).unwrap_or(0);
                let whole = if positive & 0xFFFF_FFFF == 0 {
                    positive >> 32_u32
                } else {
                    0
                };
                // One 128-bit division per reciprocal: a total that is not whole has the same
                // one twice.
                let share = Reciprocal::new(positive);
                ColumnDivisor {
                    total: bits,
                    whole,
                    reciprocal: if whole != 0 {
                        Reciprocal::new(whole)
                    } else {
                        share
                    },
                    share,
                }
            })
            .collect();
        Self { columns }
    }

    /// `safe_div(value, total of column j)`, or `value` where that total is 0.
    #[inline(always)]
    pub(crate) fn divide(&self, j: u16, value: Fx) -> Fx {
        match self.columns.get(usize::from(j)) {
            Some(column) => column.divide(value),
            None => value,
        }
    }

    /// [`Self::divide`] for the bits of a value in [0, 1], as bits (see
    /// [`ColumnDivisor::divide_unit`]). Property-tested against `divide`.
    #[inline(always)]
    pub(crate) fn divide_unit(&self, j: u16, a: u64) -> u64 {
        match self.columns.get(usize::from(j)) {
            Some(column) => column.divide_unit(a),
            None => a,
        }
    }

    /// Column j's divisor (`None` past the last column, which divides by nothing).
    #[inline(always)]
    pub(crate) fn column(&self, j: u16) -> Option<&ColumnDivisor> {
        self.columns.get(usize::from(j))
    }

    /// The divisors of the columns in `range`, for a loop over a run of adjacent columns
    /// (no lookup per entry).
    pub(crate) fn run(&self, range: std::ops::Range<usize>) -> Option<&[ColumnDivisor]> {
        self.columns.get(range)
    }
}

impl ColumnDivisor {
    /// `safe_div(value, total)`, or `value` where the total is 0.
    #[inline(always)]
    pub(crate) fn divide(&self, value: Fx) -> Fx {
        if self.total == 0 {
            return value;
        }
        if let Ok(a) = u64::try_from(value.to_bits()) {
            if self.whole != 0 {
                // A whole total w·2³²: the quotient is floor(a / w); for a whole value x·2³²,
                // floor(x·2³² / w), one multiplication.
                if a & 0xFFFF_FFFF == 0 {
                    let quotient = self.reciprocal.quotient(a >> 32_u32);
                    return i64::try_from(quotient).map_or(ZERO, Fx::from_bits);
                }
                let quotient = a.checked_div(self.whole).unwrap_or(0);
                return i64::try_from(quotient).map_or(ZERO, Fx::from_bits);
            }
            if a < ONE_BITS && self.total > 0 {
                let quotient = self.reciprocal.quotient(a);
                return i64::try_from(quotient).map_or(ZERO, Fx::from_bits);
            }
        }
        divide_rarely(value, self.total)
    }

    /// [`Self::divide`] for the bits of a value in [0, 1], as bits: below 1 over a positive
    /// total it is `floor(a·2³² / total)`, one multiplication by the total's reciprocal
    /// (whole totals included: `floor(a·2³² / (w·2³²)) = floor(a / w)`); anything else
    /// takes `divide`.
    #[inline(always)]
    pub(crate) fn divide_unit(&self, a: u64) -> u64 {
        if a < ONE_BITS && self.total > 0 {
            // As `divide`: a quotient beyond the type's range is 0 (never for a ≤ total).
            let quotient = self.share.quotient(a);
            return if i64::try_from(quotient).is_ok() {
                quotient
            } else {
                0
            };
        }
        self.divide(Fx::from_bits(a as i64)).to_bits() as u64
    }

    /// [`Self::divide_unit`] for a share of the column: bits `a ≤ 2³²` (at most 1) that are
    /// also at most the total (a term of the column's sum, or its maximum, as the bond loops
    /// divide). The quotient `floor(a·2³² / total)` is then in [0, 1], with no case left to
    /// tell apart: one multiplication, and 0 over a zero total (whose terms are all 0).
    /// Property-tested against `divide`.
    #[inline(always)]
    pub(crate) fn divide_share(&self, a: u64) -> u64 {
        self.share.quotient(a)
    }
}

/// The column divisors of classic's stored-bond sums, when every total is a whole number
/// (always: they are sums of u16 integers below 2³¹) or 0, prepared once per epoch so that
/// dividing an entry by its column's sum has no case to tell apart.
#[derive(Debug, Clone)]
pub(crate) struct WholeShares {
    columns: Vec<WholeShare>,
}

/// `floor(x·2³² / w)` for a whole total `w·2³²` (w < 2³¹, so the reciprocal's shift is 0):
/// the high word of one product, with no shift; 0 over a zero total.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WholeShare(ShiftFree);

impl WholeShares {
    /// The divisors of `divisors`' columns, or `None` where a total is neither a positive
    /// whole number below 2³² nor 0.
    pub(crate) fn new(divisors: &ColumnDivisors) -> Option<Self> {
        let columns = divisors
            .columns
            .iter()
            .map(|column| {
                (column.total == 0 || column.whole != 0)
                    .then(|| Reciprocal::new(column.whole).shift_free().map(WholeShare))
                    .flatten()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self { columns })
    }

    /// Column j's divisor (`None` past the last column, which divides by nothing).
    #[inline(always)]
    pub(crate) fn column(&self, j: u16) -> Option<&WholeShare> {
        self.columns.get(usize::from(j))
    }

    /// The divisors of the columns in `range`.
    pub(crate) fn run(&self, range: std::ops::Range<usize>) -> Option<&[WholeShare]> {
        self.columns.get(range)
    }
}

impl WholeShare {
    /// [`ColumnDivisor::divide`] of the whole number `x` (as `x·2³²`, x ≤ w), as bits:
    /// `floor(x·2³² / w)`, one multiplication. Property-tested against `divide`.
    #[inline(always)]
    pub(crate) fn divide(&self, x: u32) -> u64 {
        self.0.quotient(u64::from(x))
    }
}

/// The share divisors of columns whose totals all lie in [0, 1] (ΔB's column sums, at most
/// Σᵢ Aᵢ ≤ 1; the normalized EMA's, at most α + (1 − α) = 1; B̂'s column maxima), prepared
/// once per epoch: [`ColumnDivisor::divide_share`] with no shift (the reciprocal of a
/// `d ≤ 2³²` has none) and 16 bytes a column instead of 64.
#[derive(Debug, Clone)]
pub(crate) struct UnitShares {
    columns: Vec<UnitShare>,
}

/// [`ColumnDivisor::divide_share`] for a total in [0, 1]: see [`UnitShares`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitShare(ShiftFree);

impl UnitShares {
    /// The share divisors of `divisors`' columns, or `None` where a total is above 1 (a
    /// total ≤ 0 divides every share, 0, into 0, as `divide_share` does).
    pub(crate) fn new(divisors: &ColumnDivisors) -> Option<Self> {
        let columns = divisors
            .columns
            .iter()
            .map(|column| column.share.shift_free().map(UnitShare))
            .collect::<Option<Vec<_>>>()?;
        Some(Self { columns })
    }

    /// Column j's divisor (`None` past the last column).
    #[inline(always)]
    pub(crate) fn column(&self, j: u16) -> Option<&UnitShare> {
        self.columns.get(usize::from(j))
    }

    /// The divisors of the columns in `range`.
    pub(crate) fn run(&self, range: std::ops::Range<usize>) -> Option<&[UnitShare]> {
        self.columns.get(range)
    }
}

impl UnitShare {
    /// [`ColumnDivisor::divide_share`] of bits `a ≤ 2³²` that are at most the total:
    /// `floor(a·2³² / total)`, the high word of one product. Property-tested against
    /// `divide`.
    #[inline(always)]
    pub(crate) fn divide(&self, a: u64) -> u64 {
        self.0.quotient(a)
    }
}

/// The library's quotient for what the column fast paths do not cover (a value of 1 or more
/// over a fractional total; negative operands): kept out of line so `divide` inlines.
#[cold]
#[inline(never)]
fn divide_rarely(value: Fx, total: i64) -> Fx {
    Divisor::new(Fx::from_bits(total)).divide(value)
}

/// Row normalization of integer weights: `w / Σw` for a row of raw u16 weights, bit for bit.
///
/// A weight row holds integers (`I32F32::from_num(u16)`), so its sum s is an integer below
/// 2³¹ (at most 32 768 entries of 65 535) and `safe_div(w, s)` has the bits
/// `floor(w·2³² / s) = floor(w·2³³ / 2s)`: an integer quotient, done as a multiplication by a
/// precomputed reciprocal (Granlund and Montgomery, "Division by invariant integers using
/// multiplication", PLDI 1994, thm. 4.2): for a divisor d with `l = ceil(log2 d)` and
/// numerators below 2^N, `m = ceil(2^(N+l) / d)` gives `floor(x·m / 2^(N+l)) = floor(x / d)`.
/// Here d = 2s, x = w·2³³ < 2⁴⁹ and N = max(49, 64 − l), so that N + l ≥ 64 and m < 2⁶⁴: the
/// quotient is the high word of one 64×64-bit product, shifted right by N + l − 64. A zero
/// sum (a row of zeros) leaves the weights as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowNorm {
    magic: u64,
    /// N + l − 64.
    post_shift: u32,
}

impl RowNorm {
    /// Identity: a row whose sum is 0 or 1 (d = 2: l = 1, N = 63, m = 2⁶³).
    pub(crate) const IDENTITY: Self = Self {
        magic: 1 << 63_u32,
        post_shift: 0,
    };

    /// The normalizer for a row of integer weights summing to `sum`.
    pub(crate) fn new(sum: u64) -> Self {
        if sum <= 1 {
            return Self::IDENTITY;
        }
        let divisor = u128::from(sum) << 1_u32;
        // l = ceil(log2 d) for d ≥ 4.
        let l = 128_u32.saturating_sub(divisor.saturating_sub(1).leading_zeros());
        let bits = 49_u32.max(64_u32.saturating_sub(l));
        let k = bits.saturating_add(l);
        // ceil(2^k / d) = floor((2^k - 1) / d) + 1.
        let numerator = 1_u128
            .checked_shl(k)
            .map_or(u128::MAX, |p| p.wrapping_sub(1));
        let magic = numerator
            .checked_div(divisor)
            .map_or(0, |q| q.saturating_add(1));
        Self {
            magic: u64::try_from(magic).unwrap_or(u64::MAX),
            post_shift: k.saturating_sub(64),
        }
    }

    /// `safe_div(I32F32(w), I32F32(sum))` for a weight `w ≤ sum` of the row.
    #[inline]
    pub(crate) fn apply(self, w: u16) -> Fx {
        Fx::from_bits(self.apply_bits(w) as i64)
    }

    /// [`Self::apply`] as bits: in [0, 2³²] for a weight of the row (a share of its sum).
    #[inline(always)]
    pub(crate) fn apply_bits(self, w: u16) -> u64 {
        let numerator = u64::from(w) << 33_u32;
        let high = (u128::from(numerator).wrapping_mul(u128::from(self.magic)) >> 64_u32) as u64;
        // `post_shift` = N + l − 64 < 64 for every sum (N = 49 once l > 15, and d = 2s ≤ 2⁶⁵
        // gives l ≤ 65): the shift needs no check on every weight read.
        high >> (self.post_shift & 63)
    }
}

/// The raw u16 as a fixed-point integer (weights and classic bonds are read this way):
/// `Fx::from_num(x)`, exact, written on the bits.
#[inline]
pub(crate) fn u16_to_fixed(x: u16) -> Fx {
    Fx::from_bits(i64::from(x) << 32_u32)
}

/// `x / 65535`, truncated: a stored u16 proportion read back as a fraction.
#[inline]
pub(crate) fn u16_proportion(x: u16) -> Fx {
    // safe_div(x·2³², 65535·2³²) has the bits floor(x·2³² / 65535); a constant divisor.
    Fx::from_bits((u64::from(x) << 32_u32).wrapping_div(65_535) as i64)
}

/// The storage form of a proportion: `floor(x * 65535)`, clamped to [0, 65535].
#[inline]
pub(crate) fn fixed_proportion_to_u16(x: Fx) -> u16 {
    // x·65535 is exact below 1 (no floor to apply), its integer part floors, and the result
    // clamps to [0, 65535]: 0 below zero, 65535 from 1 up.
    match u64::try_from(x.to_bits()) {
        Ok(bits) if bits < ONE_BITS => (bits.wrapping_mul(65_535) >> 32_u32) as u16,
        Ok(_) => u16::MAX,
        Err(_) => 0,
    }
}

/// Sum without wrapping. Every sum the epoch takes is of values far below the type's range
/// (input validation bounds n and the stake total), so this equals the reference's plain sum.
pub(crate) fn sum(values: impl IntoIterator<Item = Fx>) -> Fx {
    values.into_iter().fold(ZERO, add)
}

/// Divide every element by the exact sum; an all-zero vector is left as it is.
pub(crate) fn normalize(values: &mut [Fx]) {
    let total = sum(values.iter().copied());
    normalize_using_sum(values, total);
}

/// Divide every element by `total`, unless `total` is 0.
pub(crate) fn normalize_using_sum(values: &mut [Fx], total: Fx) {
    if total == ZERO {
        return;
    }
    let divisor = Divisor::new(total);
    for value in values.iter_mut() {
        *value = divisor.divide(*value);
    }
}

/// The reference's `kappa`, `bonds_penalty`, `alpha_low`, ... : a u16 hyperparameter over 65535.
pub(crate) fn u16_param(x: u16) -> Fx {
    u16_proportion(x)
}

/// `1 - bonds_moving_average / 1e6`, computed in I64F64 and narrowed as the reference does.
pub(crate) fn ema_alpha(bonds_moving_average: u64) -> Fx {
    let average = I64F64::saturating_from_num(bonds_moving_average)
        .checked_div(I64F64::from_num(1_000_000))
        .unwrap_or(I64F64::from_bits(0));
    ONE.saturating_sub(Fx::saturating_from_num(average))
}

/// `TaoWeight` as the fraction `raw / u64::MAX`, via U96F32 as the reference computes it.
pub(crate) fn tao_weight(raw: u64) -> I64F64 {
    let weight = U96F32::saturating_from_num(raw)
        .checked_div(U96F32::saturating_from_num(u64::MAX))
        .unwrap_or(U96F32::from_bits(0));
    I64F64::saturating_from_num(weight)
}

/// The stake weight `alpha + tao * tao_weight` in I64F64.
pub(crate) fn total_stake(alpha: u64, tao: u64, tao_weight: I64F64) -> I64F64 {
    I64F64::saturating_from_num(alpha)
        .saturating_add(I64F64::saturating_from_num(tao).saturating_mul(tao_weight))
}

/// `floor(x * emission)` in I96F32, the rao amount for a normalized share.
pub(crate) fn share_of(x: Fx, emission_rao: u64) -> u64 {
    I96F32::saturating_from_num(x)
        .saturating_mul(I96F32::saturating_from_num(emission_rao))
        .saturating_to_num::<u64>()
}

/// `value` clamped to `[low, high]` in the reference's order (min first, then max).
pub(crate) fn clamp(value: Fx, low: Fx, high: Fx) -> Fx {
    value.min(high).max(low)
}

/// The liquid-alpha hyperparameters, converted once per epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlphaSigmoid {
    low: Fx,
    high: Fx,
    /// `steepness / -100`, the sigmoid's slope.
    slope: Fx,
    /// The alpha for a difference of 0.
    at_zero: Fx,
}

impl AlphaSigmoid {
    pub(crate) fn new(alpha_low: u16, alpha_high: u16, steepness: i16) -> Self {
        let slope = Fx::from_num(steepness).saturating_div(Fx::from_num(-100));
        let mut sigmoid = Self {
            low: u16_param(alpha_low),
            high: u16_param(alpha_high),
            slope,
            at_zero: ZERO,
        };
        sigmoid.at_zero = sigmoid.alpha_of_diff(ZERO);
        sigmoid
    }

    /// The per-pair EMA coefficient: near `low` while a validator tracks consensus, rising
    /// toward `high` as its weight leaves consensus (buying) or falls below its bond (selling).
    #[cfg(test)]
    pub(crate) fn alpha(&self, consensus: Fx, weight: Fx, bond: Fx) -> Fx {
        self.alpha_of_diff(Self::diff(consensus, weight, bond))
    }

    /// [`Self::alpha`], with the most common case answered from a precomputed value: a weight at
    /// or below consensus (and not below its bond) has difference 0.
    #[inline]
    pub(crate) fn alpha_cached(&self, consensus: Fx, weight: Fx, bond: Fx) -> Fx {
        let diff = Self::diff(consensus, weight, bond);
        if diff == ZERO {
            self.at_zero
        } else {
            self.alpha_of_diff(diff)
        }
    }

    /// [`Self::alpha_cached`] on bits, for a consensus, weight and bond in [0, 1]: the
    /// difference `clamp(w − c, 0, 1)` is then `w − c` floored at 0, and `clamp(b − w, 0, 1)`
    /// is `b − w`. Returns the bits of α, in [0, 1] (it is clamped to [low, high], both
    /// proportions of 65535). The bond loops compose it from its three parts themselves, to
    /// keep the α of non-zero differences.
    #[cfg(test)]
    pub(crate) fn alpha_bits(&self, consensus: u64, weight: u64, bond: u64) -> u64 {
        match Self::diff_bits(consensus, weight, bond) {
            0 => self.at_zero_bits(),
            diff => self.alpha_of_diff_bits(diff),
        }
    }

    /// The sigmoid's argument on bits, for a consensus, weight and bond in [0, 1] (see
    /// [`Self::alpha_bits`]): α is [`Self::at_zero_bits`] exactly where this is 0.
    #[inline(always)]
    pub(crate) fn diff_bits(consensus: u64, weight: u64, bond: u64) -> u64 {
        if weight >= bond {
            weight.saturating_sub(consensus)
        } else {
            bond.wrapping_sub(weight)
        }
    }

    /// The bits of α for a difference of 0 (in [0, 1]: α is clamped to [low, high]).
    #[inline(always)]
    pub(crate) fn at_zero_bits(&self) -> u64 {
        unit_bits(self.at_zero).unwrap_or(0)
    }

    /// The bits of α for a non-zero difference from [`Self::diff_bits`]: the full sigmoid.
    pub(crate) fn alpha_of_diff_bits(&self, diff: u64) -> u64 {
        unit_bits(self.alpha_of_diff(Fx::from_bits(diff as i64))).unwrap_or(0)
    }

    fn diff(consensus: Fx, weight: Fx, bond: Fx) -> Fx {
        if weight >= bond {
            clamp(sub(weight, consensus), ZERO, ONE)
        } else {
            clamp(sub(bond, weight), ZERO, ONE)
        }
    }

    fn alpha_of_diff(&self, diff: Fx) -> Fx {
        let exponent = mul(self.slope, sub(diff, HALF));
        let denominator = add(ONE, exp_safe(exponent));
        // 1 / (1 + e) with e ≥ 0 is at most 1: the native reciprocal gives the library's bits.
        let sigmoid = u64::try_from(denominator.to_bits())
            .ok()
            .and_then(reciprocal_2_64)
            .and_then(|bits| i64::try_from(bits).ok())
            .map_or_else(|| ONE.saturating_div(denominator), Fx::from_bits);
        let alpha = self
            .low
            .saturating_add(mul(sigmoid, sub(self.high, self.low)));
        clamp(alpha, self.low, self.high)
    }
}

/// `exp` with the argument clamped to [-20, 20]; an overflow gives 0 below zero, MAX above.
pub(crate) fn exp_safe(x: Fx) -> Fx {
    let clamped = if x < EXP_MIN {
        EXP_MIN
    } else if EXP_MAX < x {
        EXP_MAX
    } else {
        x
    };
    match exp(clamped) {
        Some(value) => value,
        None if clamped <= ZERO => ZERO,
        None => Fx::max_value(),
    }
}

/// `substrate_fixed::transcendental::exp` for I32F32, reproduced on raw integers.
///
/// The library sums the Taylor series to its 31st term with checked fixed-point operations
/// and inverts the result for negative arguments. Liquid alpha calls it once per bond
/// entry, and the generic library version costs microseconds, so the same steps run here on
/// the bits: a product floors (an arithmetic shift), a quotient by the term index truncates
/// (the indices are constants, so the compiler divides by multiplying), and the sum stops
/// once a term reaches 0 because every later term is then 0 too. Arguments 0 and 1 take the
/// library's own special cases.
fn exp(x: Fx) -> Option<Fx> {
    if x == ZERO || x == ONE {
        return substrate_fixed::transcendental::exp::<Fx, Fx>(x).ok();
    }
    let operand = x.checked_abs()?.to_bits();
    let result = taylor_sum(operand)?;
    if x < ZERO {
        Some(Fx::from_bits(
            i64::try_from(reciprocal_2_64(u64::try_from(result).ok()?)?).ok()?,
        ))
    } else {
        Some(Fx::from_bits(result))
    }
}

/// `1 + x + x²/2! + …` up to the 31st term, each term floored and truncated as the library
/// computes it; `None` where a checked step would overflow.
#[inline]
fn taylor_sum(operand: i64) -> Option<i64> {
    let mut result = operand.checked_add(ONE.to_bits())?;
    let mut term = operand;
    macro_rules! terms {
        ($($index:literal)*) => {$(
            let product = i128::from(term).checked_mul(i128::from(operand))? >> 32_u32;
            term = i64::try_from(product).ok()? / $index;
            if term == 0 {
                return Some(result);
            }
            result = result.checked_add(term)?;
        )*};
    }
    terms!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
    Some(result)
}

/// The bits of `1 / d` for a fixed-point `d ≥ 1` (bits ≥ 2³²): `floor(2⁶⁴ / d)`, computed
/// with a native 64-bit division. `u64::MAX / d` is one short exactly when `d` divides 2⁶⁴.
#[inline]
fn reciprocal_2_64(d: u64) -> Option<u64> {
    if d < ONE_BITS {
        return None;
    }
    let quotient = u64::MAX.checked_div(d)?;
    Some(if d.is_power_of_two() {
        quotient.wrapping_add(1)
    } else {
        quotient
    })
}

const ONE_BITS: u64 = 0x1_0000_0000;

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    /// The library's exp, the oracle for the fast copy.
    fn library_exp(x: Fx) -> Option<Fx> {
        substrate_fixed::transcendental::exp::<Fx, Fx>(x).ok()
    }

    /// Liquid alpha per reference-chain.md 2.9.3, written with the library's own operations.
    fn spec_alpha(c: Fx, w: Fx, b: Fx, low: Fx, high: Fx, steepness: i16) -> Fx {
        let d = if w >= b {
            (w - c).min(ONE).max(ZERO)
        } else {
            (b - w).min(ONE).max(ZERO)
        };
        let k = Fx::from_num(steepness).saturating_div(Fx::from_num(-100));
        let x = k.saturating_mul(d.saturating_sub(Fx::from_num(0.5_f64)));
        let x = x.max(Fx::from_num(-20)).min(Fx::from_num(20));
        let e = substrate_fixed::transcendental::exp::<Fx, Fx>(x).unwrap_or(if x <= ZERO {
            ZERO
        } else {
            Fx::max_value()
        });
        let sigma = ONE.saturating_div(ONE.saturating_add(e));
        low.saturating_add(sigma.saturating_mul(high.saturating_sub(low)))
            .min(high)
            .max(low)
    }

    #[test]
    fn alpha_matches_the_spec_formula() {
        let mut state = 0x1234_5678_9ABC_DEF0_u64;
        let mut unit = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Fx::from_bits(((state >> 31) % (1 << 33)) as i64) // [0, 2)
        };
        for steepness in [1000_i16, 100, 5000, -300, 0, i16::MAX, i16::MIN] {
            let sigmoid = AlphaSigmoid::new(45_875, 58_982, steepness);
            let (low, high) = (u16_param(45_875), u16_param(58_982));
            for _ in 0..3_000 {
                let (c, w, b) = (unit(), unit(), unit());
                let want = spec_alpha(c, w, b, low, high, steepness);
                assert_eq!(
                    sigmoid.alpha(c, w, b),
                    want,
                    "c={c} w={w} b={b} k={steepness}"
                );
                assert_eq!(sigmoid.alpha_cached(c, w, b), want);
                assert_eq!(
                    sigmoid.alpha_cached(c, c, ZERO),
                    spec_alpha(c, c, ZERO, low, high, steepness)
                );
            }
        }
    }

    #[test]
    fn sigmoid_reciprocal_matches_the_library() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for shift in 0..31 {
            for _ in 0..2_000 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let bits = (1_u64 << 32) + ((state >> 1) >> (shift + 2));
                let d = Fx::from_bits(bits as i64);
                let expected = ONE.saturating_div(d).to_bits() as u64;
                assert_eq!(reciprocal_2_64(bits), Some(expected), "1 / {d}");
            }
            let power = 1_u64 << (32 + shift);
            assert_eq!(
                reciprocal_2_64(power),
                Some(ONE.saturating_div(Fx::from_bits(power as i64)).to_bits() as u64)
            );
        }
    }

    #[test]
    fn exp_matches_the_library_bit_for_bit() {
        // A dense deterministic sweep of [-20, 20] plus the edges.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut inputs = vec![
            -20_i64 << 32,
            20 << 32,
            -(1 << 32),
            1,
            -1,
            1 << 31,
            -(1 << 31),
        ];
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let bits = ((state >> 11) as i64 % (40_i64 << 32)) - (20_i64 << 32);
            inputs.push(bits);
        }
        for bits in inputs {
            let x = Fx::from_bits(bits);
            assert_eq!(exp(x), library_exp(x), "exp({x})");
        }
    }

    #[test]
    fn reciprocal_divides_exactly() {
        let mut rng = crate::test_rng::XorShift::new(0x0DDB_1A5E_5BAD_5EED_u64);
        let mut next = || rng.next_u64();
        let mut divisors: Vec<u64> = (1..200).collect();
        divisors.extend((0..63).flat_map(|k| [(1_u64 << k) - 1, 1 << k, (1 << k) + 1]));
        divisors.extend((0..3_000).map(|_| (next() >> (next() % 64)).max(1) >> 1));
        for d in divisors.into_iter().filter(|&d| d >= 1) {
            let reciprocal = Reciprocal::new(d);
            let mut xs: Vec<u64> = vec![0, 1, 2, (1 << 32) - 1, (1 << 32) - 2, 1 << 31];
            xs.extend((0..60).map(|_| next() >> (32 + next() % 32)));
            xs.extend([d.min((1 << 32) - 1), d.saturating_sub(1).min((1 << 32) - 1)]);
            for x in xs {
                let want = (u128::from(x) << 32) / u128::from(d);
                assert_eq!(u128::from(reciprocal.quotient(x)), want, "{x}·2³² / {d}");
            }
        }
        // Whole numerators by whole divisors (classic bonds read raw u16 integers).
        for _ in 0..100_000 {
            let x = (next() % 65_536) as i64;
            let w = (next() % (1 << 31)).max(1) as i64;
            let (a, d) = (Fx::from_bits(x << 32), Fx::from_bits(w << 32));
            assert_eq!(Divisor::new(d).divide(a), safe_div(a, d), "{x} / {w}");
        }
    }

    /// The operations of the unit-range loops (`bonds`), against the library.
    mod unit_range {
        use super::*;
        use proptest::prelude::*;

        /// Bits of a value in [0, 1], with the ends and values just below 1 often.
        fn unit_value() -> impl Strategy<Value = u64> {
            prop_oneof![
                Just(0_u64),
                Just(ONE_BITS),
                Just(ONE_BITS - 1),
                (0_u32..64).prop_flat_map(|shift| (0..=ONE_BITS).prop_map(move |x| x >> shift)),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(20_000))]

            /// The unit-range loops' operations give the library's bits on operands in [0, 1].
            #[test]
            fn unit_range_operations_match_the_library(
                a in unit_value(),
                b in unit_value(),
                stored in any::<u16>(),
            ) {
                let (x, y) = (Fx::from_bits(a as i64), Fx::from_bits(b as i64));
                prop_assert_eq!(mul_unit(a, b) as i64, x.saturating_mul(y).to_bits());
                prop_assert_eq!(unit_bits(x), Some(a));
                prop_assert_eq!(
                    unit_bits_to_u16(a),
                    x.saturating_mul(Fx::from_num(65_535)).saturating_to_num::<u16>()
                );
                prop_assert_eq!(share_bits_to_u16(a), unit_bits_to_u16(a));
                prop_assert_eq!(
                    u16_proportion_bits(stored) as i64,
                    Fx::from_num(stored)
                        .checked_div(Fx::from_num(65_535))
                        .unwrap_or(ZERO)
                        .to_bits()
                );
            }

            /// Liquid alpha's α on bits is the library-path α for inputs in [0, 1].
        #[test]
        fn alpha_bits_match_alpha(c in unit_value(), w in unit_value(), b in unit_value(), steepness in any::<i16>()) {
            let sigmoid = AlphaSigmoid::new(45_875, 58_982, steepness);
            let (cf, wf, bf) = (Fx::from_bits(c as i64), Fx::from_bits(w as i64), Fx::from_bits(b as i64));
            prop_assert_eq!(Some(sigmoid.alpha_bits(c, w, b)), unit_bits(sigmoid.alpha(cf, wf, bf)));
        }

        /// `divide_unit` is `divide` (the library's `safe_div`) on values in [0, 1], over
            /// fractional, whole, tiny, zero and negative totals.
            #[test]
            fn unit_column_division_matches_the_library(
                value in unit_value(),
                total in prop_oneof![
                    any::<i64>(),
                    (1_i64..1 << 31).prop_map(|w| w << 32),
                    1_i64..1 << 33,
                    Just(0_i64),
                ],
            ) {
                let total = Fx::from_bits(total);
                let divisors = ColumnDivisors::new(&[total]);
                let value_fx = Fx::from_bits(value as i64);
                let want = if total == ZERO { value_fx } else { safe_div(value_fx, total) };
                prop_assert_eq!(divisors.divide_unit(0, value) as i64, want.to_bits());
            }

            /// `divide_share` is `divide` on values in [0, 1] that are at most the total.
            #[test]
            fn share_division_matches_the_library(
                value in unit_value(),
                extra in prop_oneof![Just(0_i64), 0_i64..1 << 20, 0_i64..1 << 40, 0_i64..1 << 62],
            ) {
                let total = Fx::from_bits(value as i64 + extra);
                let divisors = ColumnDivisors::new(&[total]);
                let value_fx = Fx::from_bits(value as i64);
                let want = if total == ZERO { value_fx } else { safe_div(value_fx, total) };
                let column = divisors.column(0).unwrap();
                prop_assert_eq!(column.divide_share(value) as i64, want.to_bits());
            }

            /// `UnitShare::divide` is `divide` on values in [0, 1] that are at most a total in
            /// [0, 1] (a zero or negative total gives 0 for the value 0); a total above 1 has
            /// no `UnitShares`.
            #[test]
            fn unit_share_division_matches_the_library(
                value in unit_value(),
                extra in prop_oneof![Just(0_i64), 0_i64..1 << 20, 0_i64..1 << 32, 0_i64..1 << 40],
                negative in prop_oneof![Just(0_i64), 1_i64..1 << 40],
            ) {
                let (value, total) = if negative == 0 {
                    (value, Fx::from_bits(value as i64 + extra))
                } else {
                    (0, Fx::from_bits(-negative))
                };
                let divisors = ColumnDivisors::new(&[total]);
                let value_fx = Fx::from_bits(value as i64);
                let want = if total <= ZERO { ZERO } else { safe_div(value_fx, total) };
                match UnitShares::new(&divisors) {
                    Some(shares) => {
                        prop_assert!(total.to_bits() <= ONE_BITS as i64);
                        let column = shares.column(0).unwrap();
                        prop_assert_eq!(column.divide(value) as i64, want.to_bits());
                        let run = shares.run(0..1).unwrap();
                        prop_assert_eq!(run[0].divide(value) as i64, want.to_bits());
                    }
                    None => prop_assert!(total.to_bits() > ONE_BITS as i64),
                }
            }

            /// Dividing by a column's positive total is monotone, so classic takes B̂'s column
            /// maxima as the raw maxima divided (no pass over the normalized bonds).
            #[test]
            fn column_division_is_monotone(
                a in unit_value(),
                b in unit_value(),
                total in prop_oneof![1_i64..1 << 33, (1_i64..1 << 20).prop_map(|w| w << 32)],
            ) {
                let (low, high) = (a.min(b) as i64, a.max(b) as i64);
                let total = Fx::from_bits(total.max(high));
                let divisors = ColumnDivisors::new(&[total]);
                let quotient = |x: i64| divisors.divide(0, Fx::from_bits(x));
                prop_assert!(quotient(low) <= quotient(high));
            }

            /// `WholeShare::divide` is `divide` on whole numbers at most a whole (or zero)
            /// total; a fractional or negative total has no `WholeShares`.
            #[test]
            fn whole_share_division_matches_the_library(
                x in prop_oneof![any::<u16>().prop_map(u32::from), 0_u32..1 << 30, Just(0_u32)],
                extra in prop_oneof![Just(0_i64), 0_i64..1 << 20, 0_i64..(1 << 31) - (1 << 30)],
                fraction in prop_oneof![Just(0_i64), 1_i64..1 << 32, 1 - (1_i64 << 32)..0],
            ) {
                let total = Fx::from_bits(((i64::from(x) + extra) << 32) + fraction);
                let divisors = ColumnDivisors::new(&[total]);
                let value = Fx::from_bits(i64::from(x) << 32);
                let want = if total == ZERO { value } else { safe_div(value, total) };
                match WholeShares::new(&divisors) {
                    Some(shares) => {
                        prop_assert!(fraction == 0 || total == ZERO);
                        let column = shares.column(0).unwrap();
                        prop_assert_eq!(column.divide(x) as i64, want.to_bits());
                    }
                    None => prop_assert!(fraction != 0 && total != ZERO),
                }
            }

            /// `RowNorm::apply_bits` is `safe_div(w, Σw)` for every weight of a row, and at most 1.
            #[test]
            fn row_norm_bits_match_the_library(sum in 0_u64..1 << 31, w in any::<u16>()) {
                let w = u64::from(w).min(sum);
                let norm = RowNorm::new(sum);
                let bits = norm.apply_bits(w as u16);
                let want = safe_div(Fx::from_num(w), Fx::from_num(sum));
                let want = if sum == 0 { Fx::from_num(w) } else { want };
                prop_assert_eq!(bits as i64, want.to_bits());
                prop_assert!(bits <= ONE_BITS);
            }
        }
    }

    #[test]
    fn column_divisors_match_safe_div() {
        let mut rng = crate::test_rng::XorShift::new(0x005E_ED0F_C01D_5EED_u64);
        let mut next = || rng.next_u64();
        let mut totals: Vec<Fx> = vec![ZERO, ONE, Fx::from_bits(-5), Fx::from_bits(1)];
        totals.extend((0..2_000).map(|_| Fx::from_bits((next() >> (1 + next() % 63)) as i64)));
        totals.extend((0..500).map(|_| Fx::from_bits(((next() % (1 << 31)) << 32) as i64)));
        let divisors = ColumnDivisors::new(&totals);
        for (j, &total) in totals.iter().enumerate() {
            let mut values: Vec<i64> = vec![0, 1, (1 << 32) - 1, 1 << 32, -3, i64::MAX];
            values.extend((0..40).map(|_| (next() >> (next() % 64)) as i64));
            values.extend((0..20).map(|_| ((next() % 65_536) << 32) as i64));
            for bits in values {
                let value = Fx::from_bits(bits);
                let want = if total == ZERO {
                    value
                } else {
                    safe_div(value, total)
                };
                assert_eq!(divisors.divide(j as u16, value), want, "{value} / {total}");
            }
        }
    }

    #[test]
    fn fast_division_and_product_match_the_library() {
        let mut rng = crate::test_rng::XorShift::new(0x2545_F491_4F6C_DD1D_u64);
        let mut next = || rng.next_u64();
        for _ in 0..200_000 {
            // Mix magnitudes: shifts spread values over the whole bit range.
            let a = (next() >> (next() % 64)) as i64;
            let b = (next() >> (next() % 64)) as i64;
            let (x, y) = (Fx::from_bits(a), Fx::from_bits(b));
            assert_eq!(Divisor::new(y).divide(x), safe_div(x, y), "{a} / {b}");
            assert_eq!(Divisor::new(x).divide(y), safe_div(y, x), "{b} / {a}");
            // Whole divisors (classic bonds' column sums) take their own path.
            let whole = Fx::from_bits(b & !0xFFFF_FFFF);
            assert_eq!(
                Divisor::new(whole).divide(x),
                safe_div(x, whole),
                "{a} / whole {b}"
            );
            assert_eq!(mul(x, y), x.saturating_mul(y), "{a} * {b}");
            assert_eq!(add(x, y), x.saturating_add(y), "{a} + {b}");
            assert_eq!(sub(x, y), x.saturating_sub(y), "{a} - {b}");
            let minus = Fx::from_bits(a.wrapping_neg());
            assert_eq!(mul(minus, y), minus.saturating_mul(y), "-{a} * {b}");
        }
        for (a, b) in [
            (0_i64, 1_i64),
            (1, 1),
            (i64::MAX, 1),
            (i64::MAX, i64::MAX),
            (1 << 32, 3),
            (5, 0),
            // The native-division path: numerators in [0, 2³²), quotients up to overflow.
            ((1 << 32) - 1, 1),
            ((1 << 32) - 1, 2),
            ((1 << 32) - 1, (1 << 32) - 1),
            ((1 << 32) - 1, i64::MAX),
            (1, -3),
            // Whole divisors.
            (i64::MAX, 1 << 32),
            (i64::MAX, 3 << 32),
            (65_535 << 32, 4_096 * (65_535 << 32)),
            (12_345 << 32, 7 << 32),
            (-5 << 32, 7 << 32),
        ] {
            let (x, y) = (Fx::from_bits(a), Fx::from_bits(b));
            assert_eq!(Divisor::new(y).divide(x), safe_div(x, y), "{a} / {b}");
        }
    }

    #[test]
    fn u16_to_fixed_matches_the_library() {
        for x in 0..=u16::MAX {
            assert_eq!(u16_to_fixed(x), Fx::from_num(x));
        }
    }

    #[test]
    fn row_norm_matches_safe_div() {
        let mut rng = crate::test_rng::XorShift::new(0x0123_4567_89AB_CDEF_u64);
        let mut next = || rng.next_u64();
        let mut sums: Vec<u64> = (0..300).collect();
        sums.extend((0..31).flat_map(|k| [(1_u64 << k) - 1, 1 << k, (1 << k) + 1]));
        sums.extend([2_147_450_880, (1 << 31) - 1, 65_535, 65_536, 131_070]);
        for _ in 0..20_000 {
            sums.push(next() >> (33 + next() % 31));
        }
        for sum in sums {
            let norm = RowNorm::new(sum);
            let total = Fx::from_bits((sum << 32) as i64);
            let mut ws: Vec<u64> = vec![0, 1, 2, sum / 2, sum / 3, sum.saturating_sub(1), sum];
            ws.extend((0..20).map(|_| next() % (sum + 1)));
            for w in ws.into_iter().filter(|&w| w <= 65_535) {
                let w = w as u16;
                let want = if sum == 0 {
                    u16_to_fixed(w)
                } else {
                    safe_div(u16_to_fixed(w), total)
                };
                assert_eq!(norm.apply(w), want, "{w} / {sum}");
            }
        }
    }

    #[test]
    fn fast_conversions_match_the_library() {
        for x in 0..=u16::MAX {
            assert_eq!(u16_proportion(x), safe_div(u16_to_fixed(x), U16_MAX), "{x}");
        }
        let mut rng = crate::test_rng::XorShift::new(0x2545_F491_4F6C_DD1D_u64);
        let mut bits: Vec<i64> = vec![
            0,
            1,
            -1,
            1 << 32,
            (1 << 32) - 1,
            (1 << 32) + 1,
            i64::MAX,
            i64::MIN,
        ];
        for _ in 0..200_000 {
            let state = rng.next_u64();
            bits.push((state >> (state % 64)) as i64);
            bits.push((state % (1 << 33)) as i64 - (1 << 31));
        }
        for b in bits {
            let x = Fx::from_bits(b);
            assert_eq!(
                fixed_proportion_to_u16(x),
                mul(x, U16_MAX).saturating_to_num::<u16>(),
                "{b}"
            );
        }
    }

    #[test]
    fn conversions_match_the_spec() {
        // kappa 32767 is 2147450879 ulp (reference-chain.md §1).
        assert_eq!(u16_param(32_767).to_bits(), 2_147_450_879);
        assert_eq!(fixed_proportion_to_u16(ONE), 65_535);
        assert_eq!(fixed_proportion_to_u16(Fx::from_num(-1)), 0);
        // 1/3 truncates to 0x5555_5555 ulp.
        assert_eq!(safe_div(ONE, Fx::from_num(3)).to_bits(), 0x5555_5555);
        assert_eq!(safe_div(ONE, ZERO), ZERO);
        // Overflow is 0 as well: 2^30 / 2^-32 does not fit.
        assert_eq!(safe_div(Fx::from_num(1 << 30), Fx::from_bits(1)), ZERO);
        // bonds_moving_average 900_000 gives alpha 0.1 (floored).
        // 0.9 floors to 3865470566 ulp, so alpha is 2^32 - 3865470566 ulp.
        assert_eq!(ema_alpha(900_000).to_bits(), 429_496_730);
    }
}

//! A seeded xorshift64 stream for the property tests that build a whole subnet or many
//! operands from one proptest seed (one seed shrinks better than a strategy per entry).

/// Marsaglia's xorshift64 (13, 7, 17); an odd start keeps the state non-zero.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next value reduced below `below` (below 1 when `below` is 0).
    pub(crate) fn below(&mut self, below: u64) -> u64 {
        self.next_u64().checked_rem(below).unwrap_or(0)
    }
}

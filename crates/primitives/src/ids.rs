//! Identifier newtypes: a subnet's `netuid`, a neuron's `uid` within a subnet, a block number.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<$inner> for $name {
            fn from(value: $inner) -> Self {
                Self(value)
            }
        }
    };
}

id_newtype!(
    /// A subnet's id. Netuid 0 is the root subnet.
    NetUid(u16)
);
id_newtype!(
    /// A neuron's slot within one subnet, `0..n`.
    Uid(u16)
);
id_newtype!(
    /// A block height. The genesis block is 0.
    BlockNumber(u64)
);

impl BlockNumber {
    /// The next height, or `None` at `u64::MAX`.
    pub fn checked_next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

//! Integration tests for `hyphae-yuma`: one binary, as the house style asks.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cabal;
mod properties;
mod reference;

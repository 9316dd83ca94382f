//! Integration tests of the ledger through its public call interface.

// Test code: a failed unwrap is a failed test, and helpers outside #[test] fns count too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod accounts;
mod admin;
mod blocks;
mod commitments;
mod e2e;
mod invariants;
mod props;
mod registration;
mod root;
mod serving;
mod stake;
mod subnets;
mod support;
mod weights;

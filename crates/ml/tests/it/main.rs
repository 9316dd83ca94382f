//! Integration tests for hyphae-ml: one binary (house style).

// Same reason as the library root: these tests check numeric code, so they do float
// arithmetic and index by construction-checked positions.
#![allow(
    clippy::float_arithmetic,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]

mod learning;
mod properties;

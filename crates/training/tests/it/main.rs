//! Integration tests for the training subnet (one binary, per house style).

mod network;
mod simulation;

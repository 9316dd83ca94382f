//! Integration tests for the training subnet (one binary, per house style).

mod live;
mod network;
mod simulation;

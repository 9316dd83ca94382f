pub mod wallet;
pub mod yuma;

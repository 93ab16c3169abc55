//! All integration tests, compiled into one binary (statistical ones are meant for
//! `cargo test --release`).

mod common;

mod allocation;
mod cli;
mod conversion;
mod malformed;
mod parquet_roundtrip;
mod reproducibility;
mod statistical;
mod bench_models;
mod tau_leap;

//! All integration tests, compiled into one binary (statistical ones are meant for
//! `cargo test --release`).

mod common;

mod allocation;
mod bench_models;
mod cli;
mod drives;
mod first_passage;
mod dsmts;
mod conversion;
mod ensembles;
mod malformed;
mod methods_cli;
mod parquet_roundtrip;
mod reproducibility;
mod sbml;
mod statistical;
mod validate;
mod tau_leap;

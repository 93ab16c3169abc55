//! All integration tests, compiled into one binary (statistical ones are meant for
//! `cargo test --release`).

mod common;

mod allocation;
mod bench_models;
mod cli;
mod conversion;
mod drives;
mod dsmts;
mod ensembles;
mod first_passage;
mod malformed;
mod methods_cli;
mod parquet_roundtrip;
mod reproducibility;
mod sbml;
mod slow_scale;
mod statistical;
mod tau_leap;
mod validate;

//! All integration tests, compiled into one binary (statistical ones are meant for
//! `cargo test --release`).

mod common;

mod allocation;
mod bench_models;
mod clamp;
mod cli;
mod compartments;
mod conversion;
mod drives;
mod dsmts;
mod ensembles;
mod first_passage;
mod include;
mod ltd_core_variants;
mod malformed;
mod methods_cli;
mod parquet_roundtrip;
mod release_std;
mod reproducibility;
mod routes_models;
mod sbml;
mod sbml_events;
mod slow_scale;
mod slow_scale_limits;
mod slow_scale_spine;
mod statistical;
mod structure;
mod summary_memory;
mod tau_leap;
mod validate;
mod validate_cache;
mod validate_method;

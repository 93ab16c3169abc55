//! spinesim: exact stochastic simulation of the biochemistry that decides whether a dendritic
//! spine weakens (LTD) or strengthens (LTP) its synapse, molecule by molecule.
//!
//! The crate follows the data flow of a run; each box is a module:
//!
//! ```text
//! model file ──► model (validated, canonical units) ──► network (dense arrays, dependency graph)
//!                       │ protocol                          │
//!                       ▼                                   ▼
//!                 schedule (sorted events) ──► trajectory ◄── simulator (exact SSA)
//!                                                 │  outcome (exact window means, peaks)
//!                                                 ▼
//!                                  ensemble (rayon, one RNG per trajectory)
//!                                                 ▼
//!                                  output (Parquet + run.json) ──► notebooks
//! ```
//!
//! # Example
//!
//! ```
//! use spinesim::{model::parse_model, network::Network, simulator::Direct, trajectory::{RunPlan, Trajectory, Worker}};
//! let text = r#"
//! [model]
//! name = "decay"
//! [[compartments]]
//! name = "cell"
//! volume = "1 fL"
//! [[species]]
//! name = "A"
//! initial = 100
//! [[reactions]]
//! name = "decay"
//! equation = "A ->"
//! rate = "1 /s"
//! "#;
//! let model = parse_model(text, "decay.toml".as_ref()).unwrap();
//! let net = Network::compile(&model);
//! let plan = RunPlan::new(&model, &net, None, 5.0, 1.0).unwrap();
//! let mut worker = Worker::new(&net, &plan, Direct::new(&net));
//! let mut out = Trajectory::default();
//! worker.simulate(&mut spinesim::ensemble::trajectory_rng(42, 0), &mut out).unwrap();
//! assert_eq!(out.samples[0], 100.0);
//! assert!(out.samples[5] < 100.0);
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod ensemble;
pub mod error;
pub mod expr;
pub mod model;
pub mod network;
pub mod outcome;
pub mod output;
pub mod sbml;
pub mod schedule;
pub mod simulator;
pub mod sweep;
pub mod trajectory;
pub mod units;
pub mod validate;

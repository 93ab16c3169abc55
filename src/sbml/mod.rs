//! SBML import and export.
//!
//! Import ([`load_sbml`], [`parse_sbml`]) reads SBML Level 2 Version 4 and Level 3 Versions 1
//! and 2 with the discrete stochastic interpretation used by the DSMTS: species are molecule
//! counts and a kinetic law is the propensity of its reaction (see `docs/sbml.md` for the
//! supported constructs). The data flow is XML → document structs ([`read`], with lines) →
//! [`Model`] ([`to_model`]); MathML becomes a tree ([`math`]) that is lowered to the engine's
//! expressions and compiled once by the network.

pub mod math;
pub mod read;
pub mod to_model;
pub mod write;

use std::path::Path;

use crate::error::{Diagnostic, ModelError};
use crate::model::Model;

pub use to_model::EVENTS_PROTOCOL;

/// True when the file is SBML: extension `.xml` or `.sbml`, or text starting with `<`.
pub fn is_sbml(path: &Path, text: &str) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("xml" | "sbml")) || text.trim_start().starts_with('<')
}

/// Reads an SBML model given as text; `path` is used in messages.
pub fn parse_sbml(text: &str, path: &Path) -> Result<Model, ModelError> {
    let one = |d: Box<Diagnostic>| ModelError {
        diagnostics: vec![*d],
    };
    let doc = read::read_sbml(text, path).map_err(one)?;
    to_model::to_model(&doc, text, path).map_err(one)
}

/// Reads an SBML model file.
pub fn load_sbml(path: &Path) -> Result<Model, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError {
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: 0,
            kind: "file",
            item: String::new(),
            message: format!("cannot read the model: {e}"),
        }],
    })?;
    parse_sbml(&text, path)
}

//! Overrides: `--set NAME=VALUE`, named `[variants.NAME]` and sweep points all change a model the
//! same way, before it is compiled.
//!
//! An assignment names a parameter (its value, in a unit of the parameter's dimension), a
//! species (its initial amount: a count or a concentration) or a compartment (its volume). It is
//! checked against the model's declarations (unknown name → error with a suggestion, wrong
//! dimension → error), then written into the parsed file in place of the original value, and the
//! whole model is validated and converted again. So an override means exactly what the same text
//! would mean in the file: a species given as a concentration keeps its concentration when its
//! compartment's volume is overridden (its count scales with the volume), mass-action constants
//! are converted with the new volume, and derived parameters are recomputed.

use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use super::load::{did_you_mean, parse_model_edited};
use super::spec::{Amount, ModelSpec};
use super::{Compartment, Model, Parameter, Species};
use crate::units::{self, Dim};

/// One `NAME = VALUE` change and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// A parameter, species or compartment name.
    pub name: String,
    /// The new value, as it would be written in the model file.
    pub value: Amount,
    /// Where it comes from, for messages and `run.json` (`--set`, `variant 'fk506'`, `sweep`).
    pub origin: String,
    /// Also hold the species at this amount (`--clamp`): reactions read it but do not change it.
    pub clamp: bool,
}

/// What an assignment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A parameter's value (index into the model's parameters).
    Parameter(usize),
    /// A species' initial amount.
    Species(usize),
    /// A compartment's volume.
    Compartment(usize),
}

/// An assignment as applied, for `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedAssignment {
    /// The name.
    pub name: String,
    /// The value as given.
    pub value: String,
    /// The value in canonical units.
    pub canonical: f64,
    /// The canonical unit (`count` for a species given as a count).
    pub unit: String,
    /// Where it comes from.
    pub origin: String,
}

/// The text of an amount as a user would write it.
pub fn amount_text(a: &Amount) -> String {
    match a {
        Amount::Int(i) => i.to_string(),
        Amount::Float(f) => format!("{f:?}"),
        Amount::Text(t) => t.clone(),
    }
}

/// Reads a value given on the command line: an integer or a plain number stay numbers (so
/// `CaN=30` is a count, as `initial = 30` is in the file), anything else is a quantity string.
pub fn amount_from_text(text: &str) -> Amount {
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        Amount::Int(i)
    } else if let Ok(f) = text.parse::<f64>() {
        Amount::Float(f)
    } else {
        Amount::Text(text.to_string())
    }
}

/// Parses `NAME=VALUE` (as given to `--set`).
pub fn parse_assignment(text: &str, origin: &str) -> Result<Assignment, String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!(
            "{origin} '{text}': expected NAME=VALUE, e.g. kcat_CaN=2.5 1/s"
        ));
    };
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() || value.is_empty() {
        return Err(format!(
            "{origin} '{text}': expected NAME=VALUE, e.g. kcat_CaN=2.5 1/s"
        ));
    }
    Ok(Assignment {
        name: name.to_string(),
        value: amount_from_text(value),
        origin: origin.to_string(),
        clamp: false,
    })
}

/// Checks that `name` is a parameter, species or compartment and that `value` fits it; returns
/// what it changes, the value in canonical units and that unit.
pub fn check_assignment(
    compartments: &[Compartment],
    parameters: &[Parameter],
    species: &[Species],
    name: &str,
    value: &Amount,
) -> Result<(Target, f64, String), String> {
    let parameter = parameters.iter().position(|p| p.name == name);
    let sp = species.iter().position(|s| s.name == name);
    let compartment = compartments.iter().position(|c| c.name == name);
    let target = match (parameter, sp, compartment) {
        (Some(i), None, None) => Target::Parameter(i),
        (None, Some(i), None) => Target::Species(i),
        (None, None, Some(i)) => Target::Compartment(i),
        (None, None, None) => {
            let candidates = parameters
                .iter()
                .map(|p| p.name.as_str())
                .chain(species.iter().map(|s| s.name.as_str()))
                .chain(compartments.iter().map(|c| c.name.as_str()));
            let hint = did_you_mean(name, candidates);
            return Err(format!(
                "unknown name '{name}': not a parameter, species or compartment{hint}"
            ));
        }
        _ => {
            return Err(format!(
                "'{name}' is both a compartment and a parameter or species; rename one"
            ))
        }
    };
    let text = amount_text(value);
    let quantity = match value {
        Amount::Int(i) => units::Quantity {
            value: *i as f64,
            dim: Dim::NONE,
        },
        Amount::Float(f) => units::Quantity {
            value: *f,
            dim: Dim::NONE,
        },
        Amount::Text(t) => units::parse_quantity(t).map_err(|e| format!("'{name}': {e}"))?,
    };
    if !quantity.value.is_finite() {
        return Err(format!("'{name}': value '{text}' is not finite"));
    }
    match target {
        Target::Parameter(i) => {
            let dim = parameters[i].dim;
            if quantity.dim != dim {
                let hint = if quantity.dim.is_none() {
                    " (a unit is missing)"
                } else {
                    ""
                };
                return Err(format!(
                    "parameter '{name}': value '{text}' has unit {}, expected {dim}{hint}",
                    quantity.dim
                ));
            }
            Ok((target, quantity.value, dim.to_string()))
        }
        Target::Species(_) => {
            let unit = if quantity.dim == Dim::CONC {
                "uM"
            } else if quantity.dim.is_none() {
                if matches!(value, Amount::Float(f) if f.fract() != 0.0) {
                    return Err(format!("species '{name}': initial {text} is not a whole number of molecules; give a count or a concentration with a unit"));
                }
                "count"
            } else {
                return Err(format!(
                    "species '{name}': initial '{text}' has unit {}, expected a count or a concentration (uM)",
                    quantity.dim
                ));
            };
            if quantity.value < 0.0 {
                return Err(format!(
                    "species '{name}': initial amount must not be negative, found {text}"
                ));
            }
            Ok((target, quantity.value, unit.to_string()))
        }
        Target::Compartment(_) => {
            if quantity.dim != Dim::VOLUME {
                return Err(format!(
                    "compartment '{name}': volume '{text}' has unit {}, expected {} (e.g. 0.05 fL)",
                    quantity.dim,
                    Dim::VOLUME
                ));
            }
            if quantity.value <= 0.0 {
                return Err(format!(
                    "compartment '{name}': volume must be positive, found {text}"
                ));
            }
            Ok((target, quantity.value, "fL".to_string()))
        }
    }
}

/// The assignments of the model's named variants, in the order given.
pub fn variant_assignments(model: &Model, names: &[String]) -> Result<Vec<Assignment>, String> {
    let mut out = Vec::new();
    for name in names {
        let Some(variant) = model.variants.iter().find(|v| &v.name == name) else {
            let known: Vec<&str> = model.variants.iter().map(|v| v.name.as_str()).collect();
            let hint = did_you_mean(name, known.iter().copied());
            return Err(format!(
                "model {} has no variant '{name}'{hint}; it has: {}",
                model.path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        for (target, value) in &variant.set {
            out.push(Assignment {
                name: target.clone(),
                value: value.clone(),
                origin: format!("variant '{name}'"),
                clamp: false,
            });
        }
    }
    Ok(out)
}

/// The model with `assignments` applied in order (a later one wins), validated again.
///
/// Errors name the assignment's origin; the returned list records every assignment applied.
pub fn apply(
    model: &Model,
    assignments: &[Assignment],
) -> Result<(Model, Vec<AppliedAssignment>), String> {
    if assignments.is_empty() {
        return Ok((model.clone(), Vec::new()));
    }
    let mut targets = Vec::new();
    let mut applied = Vec::new();
    let mut problems = Vec::new();
    for a in assignments {
        match check_assignment(
            &model.compartments,
            &model.parameters,
            &model.species,
            &a.name,
            &a.value,
        ) {
            Ok((target, _, _)) if a.clamp && !matches!(target, Target::Species(_)) => problems
                .push(format!(
                    "{}: '{}' is not a species; only species can be clamped",
                    a.origin, a.name
                )),
            Ok((target, canonical, unit)) => {
                targets.push((target, a.value.clone(), a.clamp));
                applied.push(AppliedAssignment {
                    name: a.name.clone(),
                    value: amount_text(&a.value),
                    canonical,
                    unit,
                    origin: a.origin.clone(),
                });
            }
            Err(e) => problems.push(format!("{}: {e}", a.origin)),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let edit = |spec: &mut ModelSpec| {
        for (target, value, clamp) in &targets {
            match *target {
                Target::Parameter(i) => {
                    let p = &mut spec.parameters[i];
                    p.value = Some(Spanned::new(p.name.span(), value.clone()));
                    p.expr = None;
                }
                Target::Species(i) => {
                    let s = &mut spec.species[i];
                    s.initial = Spanned::new(s.initial.span(), value.clone());
                    s.constant |= *clamp;
                }
                Target::Compartment(i) => {
                    let c = &mut spec.compartments[i];
                    c.volume = Spanned::new(c.volume.span(), value.clone());
                }
            }
        }
    };
    let mut changed = parse_model_edited(&model.text, &model.path, edit).map_err(|e| {
        let origins: Vec<String> = applied
            .iter()
            .map(|a| format!("{} ({}={})", a.origin, a.name, a.value))
            .collect();
        format!(
            "the model is not valid with the overrides {}:\n{e}",
            origins.join(", ")
        )
    })?;
    // Warnings were shown for the model as written.
    changed.warnings.clear();
    Ok((changed, applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_values_keep_their_kind() {
        assert_eq!(amount_from_text("30"), Amount::Int(30));
        assert_eq!(amount_from_text(" 0.5 "), Amount::Float(0.5));
        assert_eq!(amount_from_text("2.5 1/s"), Amount::Text("2.5 1/s".into()));
        let a = parse_assignment("k = 2.5 1/s", "--set").unwrap();
        assert_eq!(a.name, "k");
        assert!(parse_assignment("k", "--set").is_err());
        assert!(parse_assignment("=3", "--set").is_err());
    }
}

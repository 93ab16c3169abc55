//! `spinesim check`: validate a model and print the compiled network.

use std::fmt::Write as _;

use super::{CheckArgs, CliError};
use crate::model::{load_model, Model, OutcomeKind, ParameterDefinition, RateLaw};
use crate::network::Network;
use crate::schedule::Schedule;

/// Validates the model and prints the compiled network on stdout.
pub fn check(args: CheckArgs) -> Result<(), CliError> {
    let model = load_model(&args.model)?;
    for w in &model.warnings {
        eprintln!("spinesim: warning: {w}");
    }
    print!("{}", describe(&model));
    Ok(())
}

/// The compiled network as text: compartments, species, parameters, channels with their
/// stochastic constants, observables, protocols and outcomes.
pub fn describe(model: &Model) -> String {
    let net = Network::compile(model);
    let state = net.initial_state();
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "model {} ({})", model.name, model.path.display());
    let _ = writeln!(w, "\ncompartments");
    for c in &model.compartments {
        let _ = writeln!(
            w,
            "  {:<16} {} fL  ({:.6} molecules per uM)",
            c.name,
            c.volume_fl,
            c.molecules_per_micromolar()
        );
    }
    let _ = writeln!(w, "\nspecies ({})", model.species.len());
    for sp in &model.species {
        let _ = writeln!(
            w,
            "  {:<16} {:>8}  in {}",
            sp.name, sp.initial, model.compartments[sp.compartment].name
        );
    }
    let _ = writeln!(w, "\nparameters ({})", model.parameters.len());
    for (i, p) in model.parameters.iter().enumerate() {
        let how = match &p.definition {
            ParameterDefinition::Value(_) => String::new(),
            ParameterDefinition::Derived(_) => "  (derived)".into(),
        };
        let _ = writeln!(
            w,
            "  {:<16} {:>12.6e} {}{how}",
            p.name, state.params[i], p.dim
        );
    }
    let _ = writeln!(w, "\nreaction channels ({})", model.reactions.len());
    let side = |terms: &[(usize, u32)]| {
        if terms.is_empty() {
            return "0".to_string();
        }
        terms
            .iter()
            .map(|&(sp, n)| {
                if n == 1 {
                    model.species[sp].name.clone()
                } else {
                    format!("{n} {}", model.species[sp].name)
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    };
    for (r, reaction) in model.reactions.iter().enumerate() {
        let law = match &reaction.law {
            RateLaw::MassAction { .. } => format!("c = {:.6e}", state.constants[r]),
            RateLaw::Custom(_) => "custom propensity".to_string(),
        };
        let _ = writeln!(
            w,
            "  {:<24} {} -> {}   {law}   a(0) = {:.6e} /s",
            reaction.name,
            side(&reaction.reactants),
            side(&reaction.products),
            net.propensity(r, &state)
        );
    }
    if !model.observables.is_empty() {
        let _ = writeln!(w, "\nobservables");
        for o in &model.observables {
            let terms: Vec<String> = o
                .terms
                .iter()
                .map(|&(sp, c)| format!("{c}*{}", model.species[sp].name))
                .collect();
            let _ = writeln!(w, "  {:<16} = {}", o.name, terms.join(" + "));
        }
    }
    if !model.events.is_empty() {
        let _ = writeln!(
            w,
            "\ntriggered events ({}, applied in every run)",
            model.events.len()
        );
        for e in &model.events {
            let read: Vec<&str> = e
                .trigger
                .species()
                .into_iter()
                .map(|i| model.species[i].name.as_str())
                .collect();
            let _ = writeln!(
                w,
                "  {:<16} trigger reads [{}]{}, {} assignment(s)",
                e.name,
                read.join(", "),
                if e.trigger.uses_time() {
                    " and time"
                } else {
                    ""
                },
                e.assignments.len()
            );
        }
    }
    let _ = writeln!(w, "\nprotocols");
    if model.protocols.is_empty() {
        let _ = writeln!(w, "  (none)");
    }
    for p in &model.protocols {
        let t_end = p.t_end.unwrap_or_else(|| {
            p.trains
                .iter()
                .map(|t| t.start + t.count as f64 * t.period)
                .chain(p.events.iter().map(|e| e.time))
                .fold(0.0, f64::max)
        });
        let schedule = Schedule::new(p, t_end);
        let default = p
            .t_end
            .map_or("no default t_end".to_string(), |t| format!("t_end {t} s"));
        let _ = writeln!(
            w,
            "  {:<16} {} trains, {} single events, {} scheduled events, {default}",
            p.name,
            p.trains.len(),
            p.events.len(),
            schedule.events().len()
        );
        for &i in &schedule.clipped_trains {
            let _ = writeln!(
                w,
                "    note: train {} has a pulse width >= its period; its pulses merge into one",
                i + 1
            );
        }
    }
    let _ = writeln!(w, "\noutcomes");
    if model.outcomes.is_empty() {
        let _ = writeln!(w, "  (none)");
    }
    for o in &model.outcomes {
        let kind = match o.kind {
            OutcomeKind::RelativeChange { .. } => "relative_change",
            OutcomeKind::FirstPassage { .. } => "first_passage",
            OutcomeKind::Peak(_) => "peak",
            OutcomeKind::Min(_) => "min",
            OutcomeKind::Mean(_) => "mean",
            OutcomeKind::Integral(_) => "integral",
        };
        let _ = writeln!(
            w,
            "  {:<16} {kind} of {}",
            o.name,
            model.quantity_name(o.quantity)
        );
    }
    let _ = writeln!(w, "\nvariants (--variant NAME)");
    if model.variants.is_empty() {
        let _ = writeln!(w, "  (none)");
    }
    for v in &model.variants {
        let set: Vec<String> = v
            .set
            .iter()
            .map(|(n, a)| format!("{n} = {}", crate::model::overrides::amount_text(a)))
            .collect();
        let _ = writeln!(
            w,
            "  {:<16} {}  [{}]",
            v.name,
            v.description,
            set.join(", ")
        );
    }
    s
}

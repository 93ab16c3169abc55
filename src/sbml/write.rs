//! [`Model`] → SBML Level 3 Version 2 with units, readable by COPASI, libRoadRunner and
//! [`super::parse_sbml`].
//!
//! - Species are amounts in `item` (`hasOnlySubstanceUnits="true"`); compartments in fL;
//!   parameters in the engine's canonical units (s, µM, mV, fL), each with a unit definition.
//! - A kinetic law is the propensity in events/s, the form the importer reads: a mass-action
//!   channel with stochastic constant `c = rate × scale` becomes
//!   `rate × scale × A × (A − 1) × … × B`, a custom law is written as it is.
//! - Derived parameters and observables become parameters with assignment rules.
//! - One protocol becomes events `time >= t` (`initialValue="false"`, so an event at t = 0
//!   fires), one per scheduled instant, with priorities that keep the engine's order of
//!   simultaneous events. `remove` becomes `max(X − n, 0)`.
//! - A binomial draw has no SBML core equivalent: export stops unless `lossy`, which drops it and
//!   lists it. Outcomes are analysis settings, not dynamics; they are listed as not exported.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::expr::{BinOp, Expr, Func};
use crate::model::{Action, Model, ParameterDefinition, RateLaw};
use crate::schedule::{same_instant_tolerance, Schedule};
use crate::units::Dim;

/// The SBML text and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The SBML document.
    pub xml: String,
    /// Model features that were dropped (only with `lossy`).
    pub dropped: Vec<String>,
    /// Things the user should know (outcomes not exported, protocol chosen).
    pub notes: Vec<String>,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolChoice<'a> {
    /// The model's only protocol, or none if it has none; an error if it has several.
    Default,
    /// No events.
    None,
    /// This protocol.
    Named(&'a str),
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A valid, unused SBML id made from `name`.
fn unique_id(name: &str, used: &mut HashSet<String>) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    let base = id.clone();
    let mut k = 1;
    while used.contains(&id) {
        k += 1;
        id = format!("{base}_{k}");
    }
    used.insert(id.clone());
    id
}

/// The unit definition id of a dimension (`dimensionless` for none).
fn unit_id(d: Dim) -> String {
    if d.is_none() {
        return "dimensionless".into();
    }
    let part = |name: &str, e: i8| match e {
        0 => String::new(),
        1 => format!("_{name}"),
        e if e < 0 => format!("_{name}_m{}", -e),
        e => format!("_{name}_{e}"),
    };
    format!(
        "u{}{}{}{}",
        part("uM", d.conc),
        part("s", d.time),
        part("mV", d.voltage),
        part("fL", d.volume)
    )
}

fn unit_definition(d: Dim) -> String {
    let mut units = String::new();
    let mut unit = |kind: &str, exponent: i32, scale: i32| {
        if exponent != 0 {
            let _ = write!(
                units,
                r#"<unit kind="{kind}" exponent="{exponent}" scale="{scale}" multiplier="1"/>"#
            );
        }
    };
    unit("mole", d.conc as i32, -6);
    unit("litre", -(d.conc as i32), 0);
    unit("second", d.time as i32, 0);
    unit("volt", d.voltage as i32, -3);
    unit("litre", d.volume as i32, -15);
    format!(
        "      <unitDefinition id=\"{}\"><listOfUnits>{units}</listOfUnits></unitDefinition>\n",
        unit_id(d)
    )
}

/// MathML of an engine expression; `id` maps engine names to SBML ids.
fn mathml(e: &Expr, id: &dyn Fn(&str) -> String, out: &mut String) {
    let apply = |op: &str, args: &[&Expr], out: &mut String| {
        let _ = write!(out, "<apply><{op}/>");
        for a in args {
            mathml(a, id, out);
        }
        out.push_str("</apply>");
    };
    match e {
        Expr::Num(x) => cn(*x, out),
        Expr::Quantity(q) => cn(q.value, out),
        Expr::Name(n) => {
            let _ = write!(out, "<ci>{}</ci>", id(n));
        }
        Expr::Neg(x) => apply("minus", &[x], out),
        Expr::Binary(op, a, b) => {
            let op = match op {
                BinOp::Add => "plus",
                BinOp::Sub => "minus",
                BinOp::Mul => "times",
                BinOp::Div => "divide",
                BinOp::Pow => "power",
            };
            apply(op, &[a, b], out)
        }
        Expr::Call(f, args) => {
            let args: Vec<&Expr> = args.iter().collect();
            let op = match f {
                Func::Exp => "exp",
                Func::Ln => "ln",
                Func::Log10 => "log",
                Func::Sqrt => "root",
                Func::Abs => "abs",
                Func::Min => "min",
                Func::Max => "max",
            };
            apply(op, &args, out)
        }
    }
}

/// A number that reads back to the same f64.
fn cn(x: f64, out: &mut String) {
    if x.is_finite() {
        let _ = write!(out, "<cn>{x:?}</cn>");
    } else if x.is_nan() {
        out.push_str("<notanumber/>");
    } else if x > 0.0 {
        out.push_str("<infinity/>");
    } else {
        out.push_str("<apply><minus/><infinity/></apply>");
    }
}

fn math_element(body: &str) -> String {
    format!(r#"<math xmlns="http://www.w3.org/1998/Math/MathML">{body}</math>"#)
}

/// Writes `model` as SBML L3V2 with `protocol`'s events.
pub fn to_sbml(model: &Model, protocol: ProtocolChoice, lossy: bool) -> Result<Exported, String> {
    if let Some(e) = model.events.first() {
        // Their expressions were lowered for the engine (rules inlined, names resolved); writing
        // them back is not implemented.
        return Err(format!(
            "the model has triggered events (e.g. '{}'), which export-sbml does not write",
            e.name
        ));
    }
    let mut notes = Vec::new();
    let mut dropped = Vec::new();
    let protocol = match protocol {
        ProtocolChoice::None => None,
        ProtocolChoice::Named(name) => Some(
            model
                .protocol(name)
                .ok_or_else(|| format!("model has no protocol '{name}'"))?,
        ),
        ProtocolChoice::Default => match model.protocols.as_slice() {
            [] => None,
            [p] => Some(p),
            many => {
                let names: Vec<&str> = many.iter().map(|p| p.name.as_str()).collect();
                return Err(format!(
                    "the model has {} protocols and SBML holds one set of events: choose one with --protocol NAME ({}) or --protocol none",
                    many.len(),
                    names.join(", ")
                ));
            }
        },
    };
    if !model.outcomes.is_empty() {
        let names: Vec<&str> = model.outcomes.iter().map(|o| o.name.as_str()).collect();
        notes.push(format!(
            "outcomes are analysis settings with no SBML equivalent and are not exported: {}",
            names.join(", ")
        ));
    }

    let mut used = HashSet::new();
    let model_id = unique_id(&model.name, &mut used);
    used.clear();
    let mut ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for name in model
        .compartments
        .iter()
        .map(|c| &c.name)
        .chain(model.species.iter().map(|s| &s.name))
        .chain(model.parameters.iter().map(|p| &p.name))
        .chain(model.observables.iter().map(|o| &o.name))
    {
        let id = unique_id(name, &mut used);
        ids.insert(name.clone(), id);
    }
    let id = |n: &str| ids.get(n).cloned().unwrap_or_else(|| n.to_string());

    let mut dims: Vec<Dim> = vec![Dim::VOLUME];
    for p in &model.parameters {
        if !p.dim.is_none() && !dims.contains(&p.dim) {
            dims.push(p.dim);
        }
    }
    let changed: HashSet<usize> = protocol
        .iter()
        .flat_map(|p| {
            p.trains
                .iter()
                .flat_map(|t| t.on.iter().chain(&t.off))
                .chain(p.events.iter().flat_map(|e| &e.actions))
        })
        .filter_map(|a| match a {
            Action::SetParameter { parameter, .. } | Action::ScaleParameter { parameter, .. } => {
                Some(*parameter)
            }
            _ => None,
        })
        .chain(protocol.iter().flat_map(|p| {
            p.trains
                .iter()
                .flat_map(|t| t.drives.iter().map(|d| d.parameter))
        }))
        .collect();

    let mut x = String::new();
    let w = &mut x;
    let _ = writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        w,
        r#"<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">"#
    );
    let _ = writeln!(
        w,
        r#"  <model id="{model_id}" name="{}" substanceUnits="item" timeUnits="second" volumeUnits="{}" extentUnits="item">"#,
        escape(&model.name),
        unit_id(Dim::VOLUME)
    );
    if !model.description.is_empty() {
        let _ = writeln!(
            w,
            r#"    <notes><body xmlns="http://www.w3.org/1999/xhtml"><p>{}</p></body></notes>"#,
            escape(&model.description)
        );
    }
    let _ = writeln!(w, "    <listOfUnitDefinitions>");
    for d in &dims {
        w.push_str(&unit_definition(*d));
    }
    let _ = writeln!(w, "    </listOfUnitDefinitions>");
    let _ = writeln!(w, "    <listOfCompartments>");
    for c in &model.compartments {
        let _ = writeln!(
            w,
            r#"      <compartment id="{}" spatialDimensions="3" size="{:?}" units="{}" constant="true"/>"#,
            id(&c.name),
            c.volume_fl,
            unit_id(Dim::VOLUME)
        );
    }
    let _ = writeln!(w, "    </listOfCompartments>");
    let _ = writeln!(w, "    <listOfSpecies>");
    for s in &model.species {
        let _ = writeln!(
            w,
            r#"      <species id="{}" compartment="{}" initialAmount="{}" substanceUnits="item" hasOnlySubstanceUnits="true" boundaryCondition="{}" constant="false"/>"#,
            id(&s.name),
            id(&model.compartments[s.compartment].name),
            s.initial,
            s.constant
        );
    }
    let _ = writeln!(w, "    </listOfSpecies>");

    let mut rules = String::new();
    let _ = writeln!(w, "    <listOfParameters>");
    let initial = crate::model::load::parameter_values(&model.parameters)
        .ok_or("the model's derived parameters cannot be computed")?;
    for (i, p) in model.parameters.iter().enumerate() {
        let units = unit_id(p.dim);
        match &p.definition {
            ParameterDefinition::Value(v) => {
                let _ = writeln!(
                    w,
                    r#"      <parameter id="{}" value="{v:?}" units="{units}" constant="{}"/>"#,
                    id(&p.name),
                    !changed.contains(&i)
                );
            }
            ParameterDefinition::Derived(e) => {
                let _ = writeln!(
                    w,
                    r#"      <parameter id="{}" value="{:?}" units="{units}" constant="false"/>"#,
                    id(&p.name),
                    initial[i]
                );
                let mut m = String::new();
                mathml(e, &id, &mut m);
                let _ = writeln!(
                    rules,
                    r#"      <assignmentRule variable="{}">{}</assignmentRule>"#,
                    id(&p.name),
                    math_element(&m)
                );
            }
        }
    }
    for o in &model.observables {
        let _ = writeln!(
            w,
            r#"      <parameter id="{}" units="item" constant="false"/>"#,
            id(&o.name)
        );
        let mut m = String::from("<apply><plus/>");
        for &(s, weight) in &o.terms {
            m.push_str("<apply><times/>");
            cn(weight, &mut m);
            let _ = write!(m, "<ci>{}</ci></apply>", id(&model.species[s].name));
        }
        m.push_str("</apply>");
        let _ = writeln!(
            rules,
            r#"      <assignmentRule variable="{}">{}</assignmentRule>"#,
            id(&o.name),
            math_element(&m)
        );
    }
    let _ = writeln!(w, "    </listOfParameters>");
    if !rules.is_empty() {
        let _ = writeln!(w, "    <listOfRules>\n{rules}    </listOfRules>");
    }

    let _ = writeln!(w, "    <listOfReactions>");
    for r in &model.reactions {
        let rid = unique_id(&r.name, &mut used);
        let _ = writeln!(
            w,
            r#"      <reaction id="{rid}" name="{}" reversible="false">"#,
            escape(&r.name)
        );
        for (tag, side) in [
            ("listOfReactants", &r.reactants),
            ("listOfProducts", &r.products),
        ] {
            if side.is_empty() {
                continue;
            }
            let _ = write!(w, "        <{tag}>");
            for &(s, n) in side {
                let _ = write!(
                    w,
                    r#"<speciesReference species="{}" stoichiometry="{n}" constant="true"/>"#,
                    id(&model.species[s].name)
                );
            }
            let _ = writeln!(w, "</{tag}>");
        }
        // Species a custom law reads without taking part in the reaction are modifiers.
        if let RateLaw::Custom(e) = &r.law {
            let mut modifiers: Vec<usize> = e
                .names()
                .into_iter()
                .filter_map(|n| model.species.iter().position(|s| s.name == n))
                .filter(|s| !r.reactants.iter().chain(&r.products).any(|&(t, _)| t == *s))
                .collect();
            modifiers.sort_unstable();
            modifiers.dedup();
            if !modifiers.is_empty() {
                let _ = write!(w, "        <listOfModifiers>");
                for s in modifiers {
                    let _ = write!(
                        w,
                        r#"<modifierSpeciesReference species="{}"/>"#,
                        id(&model.species[s].name)
                    );
                }
                let _ = writeln!(w, "</listOfModifiers>");
            }
        }
        let mut m = String::new();
        match &r.law {
            RateLaw::MassAction { rate, scale } => {
                m.push_str("<apply><times/>");
                mathml(rate, &id, &mut m);
                cn(*scale, &mut m);
                for &(s, n) in &r.reactants {
                    let sid = id(&model.species[s].name);
                    for k in 0..n {
                        if k == 0 {
                            let _ = write!(m, "<ci>{sid}</ci>");
                        } else {
                            let _ = write!(m, "<apply><minus/><ci>{sid}</ci><cn>{k}</cn></apply>");
                        }
                    }
                }
                m.push_str("</apply>");
            }
            RateLaw::Custom(e) => mathml(e, &id, &mut m),
        }
        let _ = writeln!(w, "        <kineticLaw>{}</kineticLaw>", math_element(&m));
        let _ = writeln!(w, "      </reaction>");
    }
    let _ = writeln!(w, "    </listOfReactions>");

    if let Some(p) = protocol {
        notes.push(format!("protocol '{}' exported as events", p.name));
        let schedule = Schedule::new(p, f64::INFINITY);
        let events = schedule.events();
        let mut listed = String::new();
        let w = &mut listed;
        for (k, e) in events.iter().enumerate() {
            let mut assignments = String::new();
            for a in schedule.actions(e) {
                let (target, value) = match *a {
                    Action::SetParameter { parameter, value } => {
                        let mut m = String::new();
                        cn(value, &mut m);
                        (id(&model.parameters[parameter].name), m)
                    }
                    Action::ScaleParameter { parameter, factor } => {
                        let pid = id(&model.parameters[parameter].name);
                        let mut m = format!("<apply><times/><ci>{pid}</ci>");
                        cn(factor, &mut m);
                        m.push_str("</apply>");
                        (pid, m)
                    }
                    Action::SetSpecies { species, count } => (
                        id(&model.species[species].name),
                        format!("<cn type=\"integer\">{count}</cn>"),
                    ),
                    Action::AddSpecies { species, count } => {
                        let sid = id(&model.species[species].name);
                        (sid.clone(), format!("<apply><plus/><ci>{sid}</ci><cn type=\"integer\">{count}</cn></apply>"))
                    }
                    Action::RemoveSpecies { species, count } => {
                        let sid = id(&model.species[species].name);
                        (
                            sid.clone(),
                            format!("<apply><max/><apply><minus/><ci>{sid}</ci><cn type=\"integer\">{count}</cn></apply><cn type=\"integer\">0</cn></apply>"),
                        )
                    }
                    Action::Binomial {
                        species, p: prob, ..
                    } => {
                        let what = format!(
                            "protocol '{}': binomial draw of '{}' (p = {prob}) at t = {} s (no SBML core equivalent)",
                            p.name, model.species[species].name, e.time
                        );
                        if !lossy {
                            return Err(format!("{what}; pass --lossy to export without it"));
                        }
                        dropped.push(what);
                        continue;
                    }
                };
                let _ = write!(
                    assignments,
                    r#"<eventAssignment variable="{target}">{}</eventAssignment>"#,
                    math_element(&value)
                );
            }
            if assignments.is_empty() {
                continue;
            }
            let tol = same_instant_tolerance(e.time);
            let simultaneous = events
                .iter()
                .enumerate()
                .any(|(j, o)| j != k && (o.time - e.time).abs() <= tol);
            let priority = if simultaneous {
                let mut m = String::new();
                cn((events.len() - k) as f64, &mut m);
                format!("<priority>{}</priority>", math_element(&m))
            } else {
                String::new()
            };
            let mut time = String::new();
            cn(e.time, &mut time);
            let trigger = math_element(&format!(
                r#"<apply><geq/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">time</csymbol>{time}</apply>"#
            ));
            let _ = writeln!(
                w,
                r#"      <event id="{}" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true">{trigger}</trigger>{priority}<listOfEventAssignments>{assignments}</listOfEventAssignments></event>"#,
                unique_id(&format!("{}_{k}", p.name), &mut used),
            );
        }
        if !listed.is_empty() {
            let _ = writeln!(x, "    <listOfEvents>\n{listed}    </listOfEvents>");
        }
    }
    let _ = writeln!(x, "  </model>\n</sbml>");
    if !dropped.is_empty() {
        notes.push(format!("{} feature(s) dropped (--lossy)", dropped.len()));
    }
    Ok(Exported {
        xml: x,
        dropped,
        notes,
    })
}

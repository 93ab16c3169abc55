//! SBML document → the engine's [`Model`], with the discrete stochastic interpretation.
//!
//! - A species is a molecule count. Its symbol in a formula is the count when
//!   `hasOnlySubstanceUnits` is true, else the concentration `count / size` of its compartment.
//! - A kinetic law is the propensity in events per time unit; it becomes a custom rate law.
//! - A compartment with a size is a parameter of that name (its size); sizes are constant.
//! - Assignment rules hold at all times: a parameter rule of parameters only becomes a derived
//!   parameter; a rule that reads species is substituted into every formula that reads its
//!   variable; a species rule that is a weighted sum of species is recorded as an observable.
//! - Events with a trigger `time ≥ c` (or `>`) become one protocol, `sbml_events`, applied by
//!   default, when all of them have constant times and assignments that are constants or
//!   `X + c` / `k * c` forms. Otherwise every event becomes a
//!   [`crate::simulator::triggers::TriggeredEvent`] (any trigger, delay, priority and
//!   assignment; names resolved like kinetic laws: concentrations `X / size`, rules inlined).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::math::Math;
use super::math::Op;
use super::read::{SbmlEvent, SbmlModel};
use crate::error::Diagnostic;
use crate::expr::{BinOp, Compiled, Expr, Slot};
use crate::model::{
    Action, Compartment, Event, Model, Observable, Parameter, ParameterDefinition, Protocol,
    Quantity, RateLaw, Reaction, Species,
};
use crate::schedule::same_instant_tolerance;
use crate::simulator::triggers::{EventAssignment, EventExpr, EventTarget, TriggeredEvent};
use crate::units::Dim;

/// The protocol that holds an SBML model's events; `spinesim run` applies it by default.
pub const EVENTS_PROTOCOL: &str = "sbml_events";

/// Names an output column uses; a species may not have them.
const RESERVED: [&str; 4] = ["run", "time", "seed", "events"];

/// What an SBML id refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Compartment(usize),
    Species(usize),
    Parameter(usize),
    Reaction,
    SpeciesReference,
}

struct Builder<'a> {
    sbml: &'a SbmlModel,
    path: &'a Path,
    symbols: HashMap<&'a str, Sym>,
    /// Variable → rule math.
    rules: HashMap<&'a str, &'a Math>,
    /// Values at t = 0 of every symbol as a formula reads it (amounts or concentrations).
    initial: HashMap<String, f64>,
    /// Ids whose value changes during a run (species, event targets, rule variables).
    varying: HashSet<&'a str>,
}

type Located = Box<Diagnostic>;

impl<'a> Builder<'a> {
    fn error(
        &self,
        line: usize,
        kind: &'static str,
        item: &str,
        message: impl Into<String>,
    ) -> Located {
        Box::new(Diagnostic {
            file: self.path.to_path_buf(),
            line,
            kind,
            item: item.to_string(),
            message: message.into(),
        })
    }

    fn new(sbml: &'a SbmlModel, path: &'a Path) -> Result<Builder<'a>, Located> {
        let mut b = Builder {
            sbml,
            path,
            symbols: HashMap::new(),
            rules: HashMap::new(),
            initial: HashMap::new(),
            varying: HashSet::new(),
        };
        let mut ids: Vec<(&'a str, Sym, usize, &'static str)> = Vec::new();
        ids.extend(
            sbml.compartments
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.as_str(), Sym::Compartment(i), c.line, "compartment")),
        );
        ids.extend(
            sbml.species
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.as_str(), Sym::Species(i), s.line, "species")),
        );
        ids.extend(
            sbml.parameters
                .iter()
                .enumerate()
                .map(|(i, p)| (p.id.as_str(), Sym::Parameter(i), p.line, "parameter")),
        );
        ids.extend(
            sbml.reactions
                .iter()
                .map(|r| (r.id.as_str(), Sym::Reaction, r.line, "reaction")),
        );
        for r in &sbml.reactions {
            for sr in r.reactants.iter().chain(&r.products) {
                if let Some(id) = &sr.id {
                    ids.push((
                        id.as_str(),
                        Sym::SpeciesReference,
                        sr.line,
                        "species reference",
                    ));
                }
            }
        }
        for (id, sym, line, kind) in ids {
            if b.symbols.insert(id, sym).is_some() {
                return Err(b.error(line, kind, id, "this id is used twice in the model"));
            }
        }
        for rule in &sbml.rules {
            let v = rule.variable.as_str();
            match b.symbols.get(v) {
                Some(Sym::Species(i)) if sbml.species[*i].constant => {
                    return Err(b.error(
                        rule.line,
                        "assignment rule",
                        v,
                        "assigns a constant species",
                    ))
                }
                Some(Sym::Parameter(i)) if sbml.parameters[*i].constant => {
                    return Err(b.error(
                        rule.line,
                        "assignment rule",
                        v,
                        "assigns a constant parameter",
                    ))
                }
                Some(Sym::Species(_) | Sym::Parameter(_)) => {}
                Some(Sym::Compartment(_)) => {
                    return Err(b.error(
                        rule.line,
                        "assignment rule",
                        v,
                        "assignment rules for compartment sizes are not supported",
                    ))
                }
                Some(_) => {
                    return Err(b.error(
                        rule.line,
                        "assignment rule",
                        v,
                        "assignment rules for stoichiometries are not supported",
                    ))
                }
                None => {
                    return Err(b.error(rule.line, "assignment rule", v, "assigns an unknown id"))
                }
            }
            if rule.math.uses_time() {
                return Err(b.error(
                    rule.line,
                    "assignment rule",
                    v,
                    "an assignment rule that depends on time is not supported",
                ));
            }
            if b.rules.insert(v, &rule.math).is_some() {
                return Err(b.error(
                    rule.line,
                    "assignment rule",
                    v,
                    "a second rule for the same variable",
                ));
            }
            b.varying.insert(v);
        }
        for s in &sbml.species {
            b.varying.insert(&s.id);
        }
        for e in &sbml.events {
            for (v, _, _) in &e.assignments {
                b.varying.insert(v);
            }
        }
        Ok(b)
    }

    fn size(&self, compartment: &str) -> Option<f64> {
        match self.symbols.get(compartment) {
            Some(Sym::Compartment(i)) => self.sbml.compartments[*i].size,
            _ => None,
        }
    }

    /// Initial values of compartments, parameters and species (as formulas read them), then
    /// initial assignments and rules at t = 0, in dependency order.
    fn initial_values(&mut self) -> Result<(), Located> {
        let sbml = self.sbml;
        for c in &sbml.compartments {
            if let Some(s) = c.size {
                self.initial.insert(c.id.clone(), s);
            }
        }
        for p in &sbml.parameters {
            if let Some(v) = p.value {
                self.initial.insert(p.id.clone(), v);
            }
        }
        for s in &sbml.species {
            let size = self.size(&s.compartment);
            if !matches!(
                self.symbols.get(s.compartment.as_str()),
                Some(Sym::Compartment(_))
            ) {
                return Err(self.error(
                    s.line,
                    "species",
                    &s.id,
                    format!("unknown compartment '{}'", s.compartment),
                ));
            }
            let value = match (
                s.initial_amount,
                s.initial_concentration,
                s.only_substance_units,
            ) {
                (Some(a), _, true) => Some(a),
                (Some(a), _, false) => size.map(|v| a / v),
                (None, Some(c), false) => Some(c),
                (None, Some(c), true) => size.map(|v| c * v),
                (None, None, _) => None,
            };
            if let Some(v) = value {
                self.initial.insert(s.id.clone(), v);
            }
        }
        let mut pending: Vec<(&str, &Math, usize, &'static str)> = Vec::new();
        for a in &sbml.initial_assignments {
            match self.symbols.get(a.symbol.as_str()) {
                Some(Sym::Species(_) | Sym::Parameter(_)) => {}
                Some(Sym::Compartment(_)) => {
                    return Err(self.error(
                        a.line,
                        "initial assignment",
                        &a.symbol,
                        "initial assignments to compartment sizes are not supported",
                    ))
                }
                Some(_) => {
                    return Err(self.error(
                        a.line,
                        "initial assignment",
                        &a.symbol,
                        "initial assignments to stoichiometries are not supported",
                    ))
                }
                None => {
                    return Err(self.error(
                        a.line,
                        "initial assignment",
                        &a.symbol,
                        "assigns an unknown id",
                    ))
                }
            }
            if self.rules.contains_key(a.symbol.as_str()) {
                return Err(self.error(
                    a.line,
                    "initial assignment",
                    &a.symbol,
                    "the symbol also has an assignment rule",
                ));
            }
            pending.push((&a.symbol, &a.math, a.line, "initial assignment"));
        }
        for r in &sbml.rules {
            pending.push((&r.variable, &r.math, r.line, "assignment rule"));
        }
        for (id, _, _, _) in &pending {
            self.initial.remove(*id);
        }
        while !pending.is_empty() {
            let before = pending.len();
            let mut still = Vec::new();
            for item in pending {
                let known = |n: &str| self.initial.get(n).copied();
                match item.1.eval(&known, 0.0) {
                    Ok(v) => {
                        self.initial.insert(item.0.to_string(), v);
                    }
                    Err(_) => still.push(item),
                }
            }
            if still.len() == before {
                let (id, math, line, kind) = still[0];
                let missing = math
                    .names()
                    .into_iter()
                    .find(|n| !self.initial.contains_key(*n))
                    .unwrap_or("?");
                return Err(self.error(
                    line,
                    kind,
                    id,
                    format!(
                        "cannot compute its value at t = 0: '{missing}' has no value (or a cycle)"
                    ),
                ));
            }
            pending = still;
        }
        Ok(())
    }

    /// The value a formula reads for a name that never changes during a run.
    fn constant_value(&self, name: &str) -> Option<f64> {
        if self.varying.contains(name) {
            return None;
        }
        self.initial.get(name).copied()
    }

    /// The engine expression of a global name (`locals` hide globals), inlining rules that read
    /// species. `stack` holds the rules being inlined, to catch cycles.
    fn lower_name(
        &self,
        name: &str,
        locals: &[(String, f64)],
        stack: &RefCell<Vec<String>>,
    ) -> Result<Expr, String> {
        if let Some((_, v)) = locals.iter().find(|(n, _)| n == name) {
            return Ok(Expr::Num(*v));
        }
        if let Some(rule) = self.rules.get(name) {
            if !self.rule_reads_species(name)
                && matches!(self.symbols.get(name), Some(Sym::Parameter(_)))
            {
                return Ok(Expr::Name(name.to_string()));
            }
            if stack.borrow().iter().any(|n| n == name) {
                return Err(format!("assignment rules form a cycle through '{name}'"));
            }
            stack.borrow_mut().push(name.to_string());
            let e = self.lower_in(rule, &[], stack);
            stack.borrow_mut().pop();
            return e;
        }
        match self.symbols.get(name) {
            Some(Sym::Species(i)) => {
                let s = &self.sbml.species[*i];
                if s.only_substance_units {
                    Ok(Expr::Name(name.to_string()))
                } else if self.size(&s.compartment).is_some() {
                    Ok(Expr::Binary(
                        BinOp::Div,
                        Box::new(Expr::Name(name.to_string())),
                        Box::new(Expr::Name(s.compartment.clone())),
                    ))
                } else {
                    Err(format!("species '{name}' stands for a concentration but its compartment '{}' has no size", s.compartment))
                }
            }
            Some(Sym::Parameter(_)) if self.initial.contains_key(name) => {
                Ok(Expr::Name(name.to_string()))
            }
            Some(Sym::Parameter(_)) => Err(format!("parameter '{name}' has no value")),
            Some(Sym::Compartment(_)) if self.initial.contains_key(name) => {
                Ok(Expr::Name(name.to_string()))
            }
            Some(Sym::Compartment(_)) => Err(format!("compartment '{name}' has no size")),
            Some(Sym::Reaction) => Err(format!(
                "reaction id '{name}' used as a value (its rate) is not supported"
            )),
            Some(Sym::SpeciesReference) => Err(format!(
                "species reference id '{name}' used as a value is not supported"
            )),
            None => Err(format!("unknown name '{name}'")),
        }
    }

    /// Lowers `math` to an engine expression; `own` is the rule variable being defined, if any.
    fn lower(
        &self,
        math: &Math,
        locals: &[(String, f64)],
        own: Option<&str>,
    ) -> Result<Expr, String> {
        let stack = RefCell::new(own.map(str::to_string).into_iter().collect());
        self.lower_in(math, locals, &stack)
    }

    fn lower_in(
        &self,
        math: &Math,
        locals: &[(String, f64)],
        stack: &RefCell<Vec<String>>,
    ) -> Result<Expr, String> {
        let constant = |n: &str| match locals.iter().find(|(l, _)| l == n) {
            Some((_, v)) => Some(*v),
            None => self.constant_value(n),
        };
        math.to_expr(&|n| self.lower_name(n, locals, stack), &constant)
    }

    /// True when the rule for `name` reads a species, directly or through other rules.
    fn rule_reads_species(&self, name: &str) -> bool {
        let mut seen = HashSet::new();
        let mut todo = vec![name];
        while let Some(n) = todo.pop() {
            if !seen.insert(n) {
                continue;
            }
            let Some(rule) = self.rules.get(n) else {
                continue;
            };
            for m in rule.names() {
                match self.symbols.get(m) {
                    Some(Sym::Species(_)) => return true,
                    _ if self.rules.contains_key(m) => todo.push(m),
                    _ => {}
                }
            }
        }
        false
    }

    fn build(mut self, text: &str) -> Result<Model, Located> {
        self.initial_values()?;
        let sbml = self.sbml;

        let mut compartments = Vec::new();
        let mut parameters = Vec::new();
        for c in &sbml.compartments {
            compartments.push(Compartment {
                name: c.id.clone(),
                volume_fl: c.size.unwrap_or(f64::NAN),
            });
            if let Some(size) = c.size {
                parameters.push(Parameter {
                    name: c.id.clone(),
                    dim: Dim::NONE,
                    definition: ParameterDefinition::Value(size),
                });
            }
        }
        for p in &sbml.parameters {
            let definition = if let Some(rule) = self.rules.get(p.id.as_str()) {
                if self.rule_reads_species(&p.id) {
                    continue; // substituted wherever it is read
                }
                let e = self
                    .lower(rule, &[], Some(&p.id))
                    .map_err(|m| self.error(self.rule_line(&p.id), "assignment rule", &p.id, m))?;
                ParameterDefinition::Derived(e)
            } else {
                let v = self.initial.get(&p.id).copied().ok_or_else(|| {
                    self.error(
                        p.line,
                        "parameter",
                        &p.id,
                        "has no value (no value attribute, initial assignment or rule)",
                    )
                })?;
                ParameterDefinition::Value(v)
            };
            parameters.push(Parameter {
                name: p.id.clone(),
                dim: Dim::NONE,
                definition,
            });
        }

        if !crate::model::load::derived_in_order(&parameters).1 {
            let p = parameters
                .iter()
                .find(|p| matches!(p.definition, ParameterDefinition::Derived(_)))
                .map_or("", |p| p.name.as_str());
            return Err(self.error(
                self.rule_line(p),
                "assignment rule",
                p,
                "parameter assignment rules form a cycle",
            ));
        }

        // Species with a rule are not counted: they become observables (weighted sums).
        let mut species = Vec::new();
        let mut species_index: HashMap<&str, usize> = HashMap::new();
        for s in &sbml.species {
            if RESERVED.contains(&s.id.as_str()) {
                return Err(self.error(s.line, "species", &s.id, "this id is reserved for an output column (run, time, seed, events); rename the species"));
            }
            if self.rules.contains_key(s.id.as_str()) {
                continue;
            }
            let compartment = sbml
                .compartments
                .iter()
                .position(|c| c.id == s.compartment)
                .expect("checked");
            let value = self
                .initial
                .get(&s.id)
                .copied()
                .or(s.initial_amount)
                .ok_or_else(|| {
                    self.error(
                        s.line,
                        "species",
                        &s.id,
                        "has no initial amount or concentration (or its compartment has no size)",
                    )
                })?;
            // An initialAmount that no initial assignment overrides is the amount itself (no
            // round trip through a concentration, and no size needed).
            let assigned = sbml.initial_assignments.iter().any(|a| a.symbol == s.id);
            let amount = match s.initial_amount {
                Some(a) if !assigned => a,
                _ if s.only_substance_units => value,
                _ => value * self.size(&s.compartment).unwrap_or(f64::NAN),
            };
            let count = whole(amount).ok_or_else(|| {
                self.error(
                    s.line,
                    "species",
                    &s.id,
                    format!(
                        "initial amount {amount} is not a whole, non-negative number of molecules"
                    ),
                )
            })?;
            species_index.insert(&s.id, species.len());
            species.push(Species {
                name: s.id.clone(),
                compartment,
                initial: count,
                constant: s.boundary || s.constant,
            });
        }

        let mut observables = Vec::new();
        let mut record = Vec::new();
        for s in &sbml.species {
            if let Some(&i) = species_index.get(s.id.as_str()) {
                record.push(Quantity::Species(i));
                continue;
            }
            let line = self.rule_line(&s.id);
            let e = self
                .lower(self.rules[s.id.as_str()], &[], Some(&s.id))
                .map_err(|m| self.error(line, "assignment rule", &s.id, m))?;
            let to_amount = if s.only_substance_units {
                1.0
            } else {
                self.size(&s.compartment).unwrap_or(f64::NAN)
            };
            let terms = weighted_sum(&e, &species_index, &|n| self.constant_value(n)).ok_or_else(|| {
                self.error(line, "assignment rule", &s.id, "a species assignment rule is only supported as a weighted sum of species with constant weights (it is recorded as an observable)")
            })?;
            record.push(Quantity::Observable(observables.len()));
            observables.push(Observable {
                name: s.id.clone(),
                terms: terms.into_iter().map(|(i, w)| (i, w * to_amount)).collect(),
            });
        }

        let resolve = |n: &str| {
            parameters
                .iter()
                .position(|p| p.name == n)
                .map(|i| Slot::Param(i as u32))
                .or_else(|| species_index.get(n).map(|&i| Slot::Species(i as u32)))
        };
        let mut reactions = Vec::new();
        for r in &sbml.reactions {
            let law = r
                .law
                .as_ref()
                .ok_or_else(|| self.error(r.line, "reaction", &r.id, "has no kinetic law"))?;
            let e = self.lower(&law.math, &law.locals, None).map_err(|m| {
                self.error(law.line, "reaction", &r.id, format!("kinetic law: {m}"))
            })?;
            Compiled::new(&e, &resolve).map_err(|m| {
                self.error(law.line, "reaction", &r.id, format!("kinetic law: {m}"))
            })?;
            let mut sides = [Vec::new(), Vec::new()];
            for (side, refs) in sides.iter_mut().zip([&r.reactants, &r.products]) {
                for sr in refs.iter() {
                    let s = match self.symbols.get(sr.species.as_str()) {
                        Some(Sym::Species(i)) => &sbml.species[*i],
                        _ => {
                            return Err(self.error(
                                sr.line,
                                "reaction",
                                &r.id,
                                format!("unknown species '{}'", sr.species),
                            ))
                        }
                    };
                    if let Some(id) = &sr.id {
                        if self.varying.contains(id.as_str())
                            || sbml.initial_assignments.iter().any(|a| &a.symbol == id)
                        {
                            return Err(self.error(
                                sr.line,
                                "species reference",
                                id,
                                "a stoichiometry that is assigned is not supported",
                            ));
                        }
                    }
                    let nu = match (sr.stoichiometry, sbml.level) {
                        (Some(n), _) => n,
                        (None, 2) => 1.0,
                        (None, _) => {
                            return Err(self.error(
                                sr.line,
                                "reaction",
                                &r.id,
                                format!("the reference to '{}' has no stoichiometry", sr.species),
                            ))
                        }
                    };
                    if !(nu >= 0.0 && nu.fract() == 0.0 && nu <= u32::MAX as f64) {
                        return Err(self.error(
                            sr.line,
                            "reaction",
                            &r.id,
                            format!(
                                "stoichiometry {nu} of '{}' is not a whole non-negative number",
                                sr.species
                            ),
                        ));
                    }
                    if s.boundary || s.constant || nu == 0.0 {
                        continue; // reactions do not change it
                    }
                    let Some(&i) = species_index.get(s.id.as_str()) else {
                        return Err(self.error(sr.line, "reaction", &r.id, format!("species '{}' is set by an assignment rule and cannot take part in a reaction", s.id)));
                    };
                    match side.iter_mut().find(|(j, _)| *j == i) {
                        Some((_, n)) => *n += nu as u32,
                        None => side.push((i, nu as u32)),
                    }
                }
            }
            let [reactants, products] = sides;
            reactions.push(Reaction {
                name: r.id.clone(),
                reactants,
                products,
                law: RateLaw::Custom(e),
                fast: false,
            });
        }

        // Events that are all time-triggered with constant times and simple assignments become a
        // protocol (exported back as they came); otherwise every event is a triggered event, so
        // that timed and state events interleave, cascade and take priorities in one place.
        let mut warnings = Vec::new();
        let mut events: Vec<(f64, f64, Event)> = Vec::new();
        let mut as_protocol = true;
        for (k, e) in sbml.events.iter().enumerate() {
            match self.event(e, k, &species_index, &parameters, &mut warnings) {
                Ok(Some(timed)) => events.push(timed),
                Ok(None) => {}
                Err(_) => {
                    as_protocol = false;
                    break;
                }
            }
        }
        let mut triggered = Vec::new();
        if !as_protocol {
            warnings.clear();
            events.clear();
            for (k, e) in sbml.events.iter().enumerate() {
                triggered.push(self.triggered_event(
                    e,
                    k,
                    &species_index,
                    &parameters,
                    &resolve,
                )?);
            }
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let protocols = if sbml.events.is_empty() || !as_protocol {
            Vec::new()
        } else {
            vec![Protocol {
                name: EVENTS_PROTOCOL.to_string(),
                description: "the SBML model's events".to_string(),
                t_end: None,
                trains: Vec::new(),
                events: events.into_iter().map(|(_, _, e)| e).collect(),
                drive_samples: vec![0.0],
            }]
        };

        let name = [&sbml.id, &sbml.name]
            .into_iter()
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| {
                self.path
                    .file_stem()
                    .map_or("sbml".into(), |s| s.to_string_lossy().into_owned())
            });
        Ok(Model {
            name,
            description: sbml.name.clone(),
            path: self.path.to_path_buf(),
            text: text.to_string(),
            included: Vec::new(),
            compartments,
            parameters,
            species,
            reactions,
            observables,
            protocols: protocols.clone(),
            default_protocol: (!protocols.is_empty()).then(|| EVENTS_PROTOCOL.to_string()),
            events: triggered,
            variants: Vec::new(),
            outcomes: Vec::new(),
            record,
            warnings,
        })
    }

    fn rule_line(&self, variable: &str) -> usize {
        self.sbml
            .rules
            .iter()
            .find(|r| r.variable == variable)
            .map_or(0, |r| r.line)
    }

    /// A constant value of `math` (names that change during a run are refused).
    fn constant(&self, math: &Math) -> Result<f64, String> {
        if math.uses_time() {
            return Err("depends on time".into());
        }
        math.eval(&|n| self.constant_value(n), 0.0).map_err(|n| {
            format!("'{n}' can change during a run (only constant expressions are supported here)")
        })
    }

    /// `math` with every name a species or parameter of the engine model: rules that read
    /// species are inlined, a species that stands for a concentration becomes `X / size`.
    fn resolve_names(&self, math: &Math, stack: &mut Vec<String>) -> Result<Math, String> {
        Ok(match math {
            Math::Num(_) | Math::Time => math.clone(),
            Math::Apply(op, args) => Math::Apply(
                *op,
                args.iter()
                    .map(|a| self.resolve_names(a, stack))
                    .collect::<Result<_, _>>()?,
            ),
            Math::Piecewise(pieces, otherwise) => Math::Piecewise(
                pieces
                    .iter()
                    .map(|(v, c)| {
                        Ok((self.resolve_names(v, stack)?, self.resolve_names(c, stack)?))
                    })
                    .collect::<Result<_, String>>()?,
                match otherwise {
                    Some(o) => Some(Box::new(self.resolve_names(o, stack)?)),
                    None => None,
                },
            ),
            Math::Name(name) => {
                if let Some(rule) = self.rules.get(name.as_str()) {
                    if !self.rule_reads_species(name)
                        && matches!(self.symbols.get(name.as_str()), Some(Sym::Parameter(_)))
                    {
                        return Ok(math.clone()); // a derived parameter
                    }
                    if stack.contains(name) {
                        return Err(format!("assignment rules form a cycle through '{name}'"));
                    }
                    stack.push(name.clone());
                    let inlined = self.resolve_names(rule, stack);
                    stack.pop();
                    return inlined;
                }
                match self.symbols.get(name.as_str()) {
                    Some(Sym::Species(i)) => {
                        let s = &self.sbml.species[*i];
                        if s.only_substance_units {
                            math.clone()
                        } else if self.size(&s.compartment).is_some() {
                            Math::Apply(
                                Op::Divide,
                                vec![math.clone(), Math::Name(s.compartment.clone())],
                            )
                        } else {
                            return Err(format!("species '{name}' stands for a concentration but its compartment '{}' has no size", s.compartment));
                        }
                    }
                    Some(Sym::Parameter(_) | Sym::Compartment(_))
                        if self.initial.contains_key(name.as_str()) =>
                    {
                        math.clone()
                    }
                    Some(Sym::Parameter(_)) => {
                        return Err(format!("parameter '{name}' has no value"))
                    }
                    Some(Sym::Compartment(_)) => {
                        return Err(format!("compartment '{name}' has no size"))
                    }
                    Some(Sym::Reaction) => {
                        return Err(format!(
                            "reaction id '{name}' used as a value (its rate) is not supported"
                        ))
                    }
                    Some(Sym::SpeciesReference) => {
                        return Err(format!(
                            "species reference id '{name}' used as a value is not supported"
                        ))
                    }
                    None => return Err(format!("unknown name '{name}'")),
                }
            }
        })
    }

    /// An event as a triggered event (any trigger, delay, priority and assignments).
    fn triggered_event(
        &self,
        e: &'a SbmlEvent,
        index: usize,
        species_index: &HashMap<&str, usize>,
        parameters: &[Parameter],
        resolve: &dyn Fn(&str) -> Option<Slot>,
    ) -> Result<TriggeredEvent, Located> {
        let id = if e.id.is_empty() {
            format!("#{}", index + 1)
        } else {
            e.id.clone()
        };
        let fail = |m: String| self.error(e.line, "event", &id, m);
        let compile = |what: &str, math: &Math, trigger: bool| {
            let resolved = self
                .resolve_names(math, &mut Vec::new())
                .map_err(|m| fail(format!("{what}: {m}")))?;
            if trigger {
                EventExpr::trigger(&resolved, resolve)
            } else {
                EventExpr::compile(&resolved, resolve)
            }
            .map_err(|m| fail(format!("{what}: {m}")))
        };
        let trigger = compile("trigger", &e.trigger, true)?;
        let delay = match &e.delay {
            Some(d) => Some(compile("delay", d, false)?),
            None => None,
        };
        let priority = match &e.priority {
            Some(p) => Some(compile("priority", p, false)?),
            None => None,
        };
        let mut assignments = Vec::new();
        for (variable, math, line) in &e.assignments {
            let fail = |m: &str| {
                self.error(
                    *line,
                    "event assignment",
                    variable,
                    format!("in event '{id}': {m}"),
                )
            };
            let target = match self.symbols.get(variable.as_str()) {
                Some(Sym::Species(i)) => {
                    let s = &self.sbml.species[*i];
                    if s.constant {
                        return Err(fail("assigns a constant species"));
                    }
                    let Some(&species) = species_index.get(variable.as_str()) else {
                        return Err(fail("assigns a species that has an assignment rule"));
                    };
                    let amount_per_value = if s.only_substance_units {
                        1.0
                    } else {
                        self.size(&s.compartment).ok_or_else(|| {
                            fail("assigns a concentration in a compartment without a size")
                        })?
                    };
                    EventTarget::Species {
                        species,
                        amount_per_value,
                    }
                }
                Some(Sym::Parameter(i)) => {
                    if self.sbml.parameters[*i].constant {
                        return Err(fail("assigns a constant parameter"));
                    }
                    if self.rules.contains_key(variable.as_str()) {
                        return Err(fail("assigns a parameter that has an assignment rule"));
                    }
                    EventTarget::Parameter(
                        parameters
                            .iter()
                            .position(|q| &q.name == variable)
                            .expect("every parameter without a rule is in the model"),
                    )
                }
                Some(Sym::Compartment(_)) => {
                    return Err(fail("assignments to compartment sizes are not supported"))
                }
                _ => return Err(fail("assigns an unknown id")),
            };
            let value = self
                .resolve_names(math, &mut Vec::new())
                .and_then(|m| EventExpr::compile(&m, resolve))
                .map_err(|m| fail(&m))?;
            assignments.push(EventAssignment {
                target,
                target_name: variable.clone(),
                value,
            });
        }
        Ok(TriggeredEvent {
            name: id,
            trigger,
            initial_value: e.initial_value,
            persistent: e.persistent,
            delay,
            priority,
            use_values_from_trigger_time: e.use_values_from_trigger_time,
            assignments,
        })
    }

    /// A time-triggered event as (time, priority, event), or None if it can never fire.
    fn event(
        &self,
        e: &'a SbmlEvent,
        index: usize,
        species_index: &HashMap<&str, usize>,
        parameters: &[Parameter],
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Option<(f64, f64, Event)>, Located> {
        let id = if e.id.is_empty() {
            format!("#{}", index + 1)
        } else {
            e.id.clone()
        };
        let fail = |m: String| self.error(e.line, "event", &id, m);
        let (threshold, strict) = match &e.trigger {
            Math::Apply(op @ (Op::Geq | Op::Gt), args) if args.len() == 2 && args[0] == Math::Time => (&args[1], *op == Op::Gt),
            Math::Apply(op @ (Op::Leq | Op::Lt), args) if args.len() == 2 && args[1] == Math::Time => (&args[0], *op == Op::Lt),
            _ => {
                return Err(fail(
                    "only time-triggered events (trigger time >= c or time > c, c constant) are supported; \
                     state-triggered events are not"
                        .into(),
                ))
            }
        };
        let c = self
            .constant(threshold)
            .map_err(|m| fail(format!("trigger threshold {m}")))?;
        let delay = match &e.delay {
            None => 0.0,
            Some(d) => self.constant(d).map_err(|m| fail(format!("delay {m}")))?,
        };
        if !(delay >= 0.0 && delay.is_finite()) {
            return Err(fail(format!(
                "delay {delay} is not a finite non-negative time"
            )));
        }
        let priority = match &e.priority {
            None => 0.0,
            Some(p) => self
                .constant(p)
                .map_err(|m| fail(format!("priority {m}")))?,
        };
        // The trigger is true at t = 0 when c < 0 (or c = 0 with >=).
        let true_at_start = c < 0.0 || (c == 0.0 && !strict);
        let trigger_time = if true_at_start {
            if e.initial_value {
                warnings.push(Diagnostic {
                    file: self.path.to_path_buf(),
                    line: e.line,
                    kind: "event",
                    item: id.clone(),
                    message: "the trigger is true from t = 0 with initialValue=\"true\", so the event never fires".into(),
                });
                return Ok(None);
            }
            0.0
        } else if strict {
            // Fires at the first instant after c: after the state at c is recorded.
            c + 4.0 * same_instant_tolerance(c)
        } else {
            c
        };
        let mut actions = Vec::new();
        for (variable, math, line) in &e.assignments {
            let fail = |m: String| {
                self.error(
                    *line,
                    "event assignment",
                    variable,
                    format!("in event '{id}': {m}"),
                )
            };
            // X := X + c (or c + X, X - c) and k := k * c apply at execution time; with a delay
            // and useValuesFromTriggerTime they would need the trigger-time value.
            let relative_ok = e.delay.is_none() || !e.use_values_from_trigger_time;
            let offset = |m: &Math| -> Option<(f64, bool)> {
                let Math::Apply(op, args) = m else {
                    return None;
                };
                let is_self = |a: &Math| *a == Math::Name(variable.clone());
                match (op, args.as_slice()) {
                    (Op::Plus, [a, b]) if is_self(a) => Some((self.constant(b).ok()?, true)),
                    (Op::Plus, [a, b]) if is_self(b) => Some((self.constant(a).ok()?, true)),
                    (Op::Minus, [a, b]) if is_self(a) => Some((-self.constant(b).ok()?, true)),
                    (Op::Times, [a, b]) if is_self(a) => Some((self.constant(b).ok()?, false)),
                    (Op::Times, [a, b]) if is_self(b) => Some((self.constant(a).ok()?, false)),
                    _ => None,
                }
            };
            // max(X - n, 0): remove n molecules, stopping at zero.
            let removal = match math {
                Math::Apply(Op::Max, args) => match args.as_slice() {
                    [Math::Apply(Op::Minus, d), zero]
                        if d.len() == 2
                            && d[0] == Math::Name(variable.clone())
                            && self.constant(zero) == Ok(0.0) =>
                    {
                        self.constant(&d[1]).ok()
                    }
                    _ => None,
                },
                _ => None,
            };
            let value = self.constant(math);
            match self.symbols.get(variable.as_str()) {
                Some(Sym::Species(i)) => {
                    let s = &self.sbml.species[*i];
                    if s.constant {
                        return Err(fail("assigns a constant species".into()));
                    }
                    let Some(&species) = species_index.get(variable.as_str()) else {
                        return Err(fail("assigns a species that has an assignment rule".into()));
                    };
                    let to_amount = if s.only_substance_units {
                        1.0
                    } else {
                        self.size(&s.compartment).unwrap_or(f64::NAN)
                    };
                    match (value, offset(math)) {
                        (Err(_), _) if removal.is_some() && relative_ok => {
                            let amount = removal.unwrap_or(0.0) * to_amount;
                            if amount.fract() != 0.0 || !amount.is_finite() || amount < 0.0 {
                                return Err(fail(format!("removes {amount} molecules, not a whole non-negative number")));
                            }
                            actions.push(Action::RemoveSpecies { species, count: amount as i64 });
                        }
                        (Ok(v), _) => {
                            let count = whole(v * to_amount).ok_or_else(|| fail(format!("value {} is not a whole, non-negative number of molecules", v * to_amount)))?;
                            actions.push(Action::SetSpecies { species, count });
                        }
                        (Err(_), Some((d, true))) if relative_ok => {
                            let amount = d * to_amount;
                            if amount.fract() != 0.0 || !amount.is_finite() {
                                return Err(fail(format!("adds {amount} molecules, not a whole number")));
                            }
                            actions.push(Action::AddSpecies { species, count: amount as i64 });
                        }
                        (Err(m), _) => return Err(fail(format!("the assigned value {m}; besides constants only X + c and X - c are supported"))),
                    }
                }
                Some(Sym::Parameter(i)) => {
                    let p = &self.sbml.parameters[*i];
                    if p.constant {
                        return Err(fail("assigns a constant parameter".into()));
                    }
                    if self.rules.contains_key(variable.as_str()) {
                        return Err(fail(
                            "assigns a parameter that has an assignment rule".into(),
                        ));
                    }
                    let parameter = parameters
                        .iter()
                        .position(|q| &q.name == variable)
                        .expect("every parameter without a rule is in the model");
                    match (value, offset(math)) {
                        (Ok(value), _) => actions.push(Action::SetParameter { parameter, value }),
                        (Err(_), Some((factor, false))) if relative_ok => {
                            actions.push(Action::ScaleParameter { parameter, factor })
                        }
                        (Err(m), _) => {
                            return Err(fail(format!(
                                "the assigned value {m}; besides constants only k * c is supported"
                            )))
                        }
                    }
                }
                Some(Sym::Compartment(_)) => {
                    return Err(fail(
                        "assignments to compartment sizes are not supported".into(),
                    ))
                }
                _ => return Err(fail("assigns an unknown id".into())),
            }
        }
        Ok(Some((
            trigger_time + delay,
            priority,
            Event {
                time: trigger_time + delay,
                actions,
            },
        )))
    }
}

/// `x` as a whole, non-negative count (within rounding of 1e-9 relative).
fn whole(x: f64) -> Option<i64> {
    let r = x.round();
    (x.is_finite() && r >= 0.0 && (x - r).abs() <= 1e-9 * r.max(1.0) && r < 9e15)
        .then_some(r as i64)
}

/// `e` as Σ wᵢ·speciesᵢ with constant weights (parameters that never change count as their
/// value), or None.
fn weighted_sum(
    e: &Expr,
    species: &HashMap<&str, usize>,
    initial: &dyn Fn(&str) -> Option<f64>,
) -> Option<Vec<(usize, f64)>> {
    // Replace constant parameter names by their values, then read the linear terms.
    fn fold(
        e: &Expr,
        species: &HashMap<&str, usize>,
        initial: &dyn Fn(&str) -> Option<f64>,
    ) -> Expr {
        match e {
            Expr::Name(n) if !species.contains_key(n.as_str()) => {
                initial(n).map_or_else(|| e.clone(), Expr::Num)
            }
            Expr::Neg(x) => Expr::Neg(Box::new(fold(x, species, initial))),
            Expr::Binary(op, a, b) => Expr::Binary(
                *op,
                Box::new(fold(a, species, initial)),
                Box::new(fold(b, species, initial)),
            ),
            Expr::Call(f, args) => {
                Expr::Call(*f, args.iter().map(|a| fold(a, species, initial)).collect())
            }
            _ => e.clone(),
        }
    }
    let terms = fold(e, species, initial).linear_terms()?;
    terms
        .into_iter()
        .map(|(n, w)| species.get(n.as_str()).map(|&i| (i, w)))
        .collect()
}

/// Converts a read SBML model into the engine's model.
pub fn to_model(sbml: &SbmlModel, text: &str, path: &Path) -> Result<Model, Box<Diagnostic>> {
    Builder::new(sbml, path)?.build(text)
}

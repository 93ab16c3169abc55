//! From the file to a checked [`Model`]: names resolved, units converted and checked.
//!
//! Every problem is collected with its file, line and item, so a user sees all of them at once,
//! before any simulation starts.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde_spanned::Spanned;

use super::equation::{is_identifier, parse_equation};
use super::include::Sources;
use super::spec::{self, Amount, ModelSpec};
use super::*;
use crate::error::{Diagnostic, ModelError};
use crate::expr::{self, Compiled, Slot};
use crate::units::{self, Dim};

/// Reads and validates a model file: TOML, or SBML (see [`crate::sbml::is_sbml`]).
pub fn load_model(path: &Path) -> Result<Model, ModelError> {
    match std::fs::read_to_string(path) {
        Ok(text) if crate::sbml::is_sbml(path, &text) => crate::sbml::parse_sbml(&text, path),
        Ok(text) => parse_model(&text, path),
        Err(e) => Err(ModelError {
            diagnostics: vec![Diagnostic {
                file: path.to_path_buf(),
                line: 0,
                kind: "file",
                item: String::new(),
                message: format!("cannot read the model: {e}"),
            }],
        }),
    }
}

/// Validates a model given as text; `path` is used in messages.
pub fn parse_model(text: &str, path: &Path) -> Result<Model, ModelError> {
    parse_model_edited(text, path, |_| {})
}

/// Validates a model given as text after `edit` changed the parsed file (see
/// [`super::overrides`]).
pub(crate) fn parse_model_edited(
    text: &str,
    path: &Path,
    edit: impl FnOnce(&mut ModelSpec),
) -> Result<Model, ModelError> {
    let (spec, sources) = super::include::resolve(text, path)?;
    let mut loader = Loader {
        path,
        text,
        sources,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut spec = spec;
    edit(&mut spec);
    let model = loader.build(spec);
    if loader.errors.is_empty() {
        let mut model = model;
        model.warnings = loader.warnings;
        Ok(model)
    } else {
        loader.errors.sort_by_key(|d| d.line);
        Err(ModelError {
            diagnostics: loader.errors,
        })
    }
}

/// Names that output tables use for their own columns.
const RESERVED_NAMES: [&str; 4] = ["run", "time", "seed", "events"];

/// Where a name in the shared namespace (parameters, species, observables) points.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Named {
    Parameter(usize),
    Species(usize),
    Observable(usize),
}

struct Loader<'a> {
    path: &'a Path,
    text: &'a str,
    /// The file and every file it includes; spans index into them.
    sources: Sources,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// Suggests the closest candidate to a misspelt name.
pub(crate) fn did_you_mean<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|&(score, _)| score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!("; did you mean '{c}'?"),
        None => String::new(),
    }
}

fn amount_text(a: &Amount) -> String {
    match a {
        Amount::Int(i) => i.to_string(),
        Amount::Float(f) => f.to_string(),
        Amount::Text(t) => t.clone(),
    }
}

impl<'a> Loader<'a> {
    fn error(&mut self, span: Range<usize>, kind: &'static str, item: &str, message: String) {
        let (file, line) = self.sources.locate(span.start);
        self.errors.push(Diagnostic {
            file: file.to_path_buf(),
            line,
            kind,
            item: item.to_string(),
            message,
        });
    }

    fn warn(&mut self, span: Range<usize>, kind: &'static str, item: &str, message: String) {
        let (file, line) = self.sources.locate(span.start);
        self.warnings.push(Diagnostic {
            file: file.to_path_buf(),
            line,
            kind,
            item: item.to_string(),
            message,
        });
    }

    /// A quantity of the expected dimension, or an error (returns None).
    fn quantity(
        &mut self,
        value: &Spanned<Amount>,
        expected: Dim,
        kind: &'static str,
        item: &str,
        what: &str,
    ) -> Option<f64> {
        let parsed = amount_quantity(value.get_ref());
        match parsed {
            Ok(q) if q.dim == expected && q.value.is_finite() => Some(q.value),
            Ok(q) if q.dim == expected => {
                self.error(value.span(), kind, item, format!("{what} is not finite"));
                None
            }
            Ok(q) => {
                let text = amount_text(value.get_ref());
                let hint = if q.dim.is_none() {
                    " (a unit is missing)"
                } else {
                    ""
                };
                self.error(
                    value.span(),
                    kind,
                    item,
                    format!(
                        "{what} '{text}' has unit {}, expected {expected}{hint}",
                        q.dim
                    ),
                );
                None
            }
            Err(e) => {
                self.error(value.span(), kind, item, format!("{what}: {e}"));
                None
            }
        }
    }

    fn time(
        &mut self,
        value: &Spanned<Amount>,
        kind: &'static str,
        item: &str,
        what: &str,
    ) -> Option<f64> {
        let t = self.quantity(value, Dim::TIME, kind, item, what)?;
        if t < 0.0 {
            self.error(
                value.span(),
                kind,
                item,
                format!("{what} is negative ({t} s)"),
            );
            return None;
        }
        Some(t)
    }

    fn build(&mut self, spec: ModelSpec) -> Model {
        let ModelSpec {
            model: header,
            include: _,
            compartments,
            parameters,
            species,
            reactions,
            observables,
            protocols,
            outcomes,
            variants,
        } = spec;
        let name = header.name.get_ref().clone();

        // Names: parameters, species and observables share one namespace (expressions use all three).
        let mut names: HashMap<String, (Named, Range<usize>)> = HashMap::new();
        let mut declare = |loader: &mut Self,
                           n: &spec::SpannedStr,
                           kind: &'static str,
                           named: Named| {
            let s = n.get_ref();
            if !is_identifier(s) {
                loader.error(
                    n.span(),
                    kind,
                    s,
                    "is not a valid name (letters, digits and _, not starting with a digit)".into(),
                );
            } else if RESERVED_NAMES.contains(&s.as_str()) {
                loader.error(
                    n.span(),
                    kind,
                    s,
                    "is reserved for an output column (run, time, seed, events); rename it".into(),
                );
            } else if let Some((_, first)) = names.get(s) {
                let first_place = loader.sources.place(first.start, n.span().start);
                loader.error(
                    n.span(),
                    kind,
                    s,
                    format!("duplicate name (first declared on {first_place})"),
                );
            } else {
                names.insert(s.clone(), (named, n.span()));
            }
        };
        for (i, p) in parameters.iter().enumerate() {
            declare(self, &p.name, "parameter", Named::Parameter(i));
        }
        for (i, s) in species.iter().enumerate() {
            declare(self, &s.name, "species", Named::Species(i));
        }
        for (i, o) in observables.iter().enumerate() {
            declare(self, &o.name, "observable", Named::Observable(i));
        }
        let all_names: Vec<String> = names.keys().cloned().collect();

        let compartments = self.compartments(&compartments);
        let parameters = self.parameters(&parameters, &names, &all_names);
        let param_values = self.parameter_values(&parameters);
        let species = self.species(&species, &compartments);
        let species_names: Vec<&str> = species.iter().map(|s| s.name.as_str()).collect();
        let species_index: HashMap<&str, usize> = species_names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i))
            .collect();
        let reactions = self.reactions(
            &reactions,
            &species,
            &species_index,
            &compartments,
            &parameters,
            &param_values,
            &names,
        );
        let observables = self.observables(&observables, &species_index, &species_names);

        let quantity_of = |n: &str| match names.get(n) {
            Some((Named::Species(i), _)) => Some(Quantity::Species(*i)),
            Some((Named::Observable(i), _)) => Some(Quantity::Observable(*i)),
            _ => None,
        };
        let quantity_names: Vec<&str> = species
            .iter()
            .map(|s| s.name.as_str())
            .chain(observables.iter().map(|o| o.name.as_str()))
            .collect();
        let record = match &header.record {
            None => (0..species.len())
                .map(Quantity::Species)
                .chain((0..observables.len()).map(Quantity::Observable))
                .collect(),
            Some(list) => {
                let mut record = Vec::new();
                for n in list {
                    match quantity_of(n.get_ref()) {
                        Some(q) if record.contains(&q) => {
                            self.error(n.span(), "record", n.get_ref(), "is listed twice".into())
                        }
                        Some(q) => record.push(q),
                        None => {
                            let hint = did_you_mean(n.get_ref(), quantity_names.iter().copied());
                            self.error(
                                n.span(),
                                "record",
                                n.get_ref(),
                                format!("is not a species or observable{hint}"),
                            )
                        }
                    }
                }
                record
            }
        };

        let ctx = ActionContext {
            names: &names,
            all_names: &all_names,
            species: &species,
            compartments: &compartments,
            parameters: &parameters,
        };
        let protocols = self.protocols(&protocols, &ctx);
        let outcomes = self.outcomes(&outcomes, &quantity_of, &quantity_names);
        let variants = self.variants(variants, &compartments, &parameters, &species);

        // Species that nothing changes are probably a mistake (a typo elsewhere, a forgotten reaction).
        let mut touched = vec![false; species.len()];
        for r in &reactions {
            for &(s, _) in r.reactants.iter().chain(&r.products) {
                touched[s] = true;
            }
        }
        for p in &protocols {
            let actions = p
                .trains
                .iter()
                .flat_map(|t| t.on.iter().chain(&t.off))
                .chain(p.events.iter().flat_map(|e| &e.actions));
            for a in actions {
                match *a {
                    Action::SetSpecies { species, .. }
                    | Action::AddSpecies { species, .. }
                    | Action::RemoveSpecies { species, .. } => touched[species] = true,
                    Action::Binomial { species, into, .. } => {
                        touched[species] = true;
                        if let Some(i) = into {
                            touched[i] = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        for (i, s) in species.iter().enumerate() {
            if !touched[i] && !s.constant {
                let span = names.get(&s.name).map(|(_, sp)| sp.clone()).unwrap_or(0..0);
                self.warn(
                    span,
                    "species",
                    &s.name,
                    "no reaction or protocol action changes it".into(),
                );
            }
        }

        Model {
            name,
            description: header.description.unwrap_or_default(),
            path: self.path.to_path_buf(),
            text: self.text.to_string(),
            included: self
                .sources
                .0
                .iter()
                .skip(1)
                .map(|s| (s.path.clone(), s.text.clone()))
                .collect(),
            compartments,
            parameters,
            species,
            reactions,
            observables,
            protocols,
            default_protocol: None,
            events: Vec::new(),
            outcomes,
            record,
            variants,
            warnings: Vec::new(),
        }
    }

    /// `[variants.NAME]`: every assignment checked like `--set`, variants in file order.
    fn variants(
        &mut self,
        specs: std::collections::BTreeMap<spec::SpannedStr, spec::VariantSpec>,
        compartments: &[Compartment],
        parameters: &[Parameter],
        species: &[Species],
    ) -> Vec<Variant> {
        let mut specs: Vec<_> = specs.into_iter().collect();
        specs.sort_by_key(|(name, _)| name.span().start);
        let mut out = Vec::new();
        for (name, v) in specs {
            let vname = name.get_ref();
            if !is_identifier(vname) || vname == "control" {
                self.error(
                    name.span(),
                    "variant",
                    vname,
                    "is not a valid variant name (letters, digits and _; `control` means no variant)"
                        .into(),
                );
            }
            if v.set.is_empty() {
                self.error(name.span(), "variant", vname, "`set` is empty".into());
            }
            let mut set = Vec::new();
            for (target, value) in v.set {
                if let Err(e) = overrides::check_assignment(
                    compartments,
                    parameters,
                    species,
                    target.get_ref(),
                    value.get_ref(),
                ) {
                    self.error(target.span(), "variant", vname, e);
                }
                set.push((target.into_inner(), value.into_inner()));
            }
            out.push(Variant {
                name: vname.clone(),
                description: v.description.unwrap_or_default(),
                set,
            });
        }
        out
    }

    fn compartments(&mut self, specs: &[spec::CompartmentSpec]) -> Vec<Compartment> {
        let mut out: Vec<Compartment> = Vec::new();
        for c in specs {
            let name = c.name.get_ref();
            if out.iter().any(|o| &o.name == name) {
                self.error(c.name.span(), "compartment", name, "duplicate name".into());
                continue;
            }
            let volume = self.quantity(&c.volume, Dim::VOLUME, "compartment", name, "volume");
            if let Some(v) = volume {
                if v <= 0.0 {
                    self.error(
                        c.volume.span(),
                        "compartment",
                        name,
                        format!("volume must be positive, found {v} fL"),
                    );
                }
            }
            out.push(Compartment {
                name: name.clone(),
                volume_fl: volume.unwrap_or(1.0),
            });
        }
        out
    }

    fn parameters(
        &mut self,
        specs: &[spec::ParameterSpec],
        names: &HashMap<String, (Named, Range<usize>)>,
        all_names: &[String],
    ) -> Vec<Parameter> {
        let mut out: Vec<Parameter> = Vec::new();
        let mut exprs: Vec<Option<(expr::Expr, Range<usize>)>> = Vec::new();
        for p in specs {
            let name = p.name.get_ref();
            let (definition, dim, e) = match (&p.value, &p.expr) {
                (Some(v), None) => {
                    let parsed = amount_quantity(v.get_ref());
                    match parsed {
                        Ok(q) if q.value.is_finite() => {
                            (ParameterDefinition::Value(q.value), q.dim, None)
                        }
                        Ok(_) => {
                            self.error(v.span(), "parameter", name, "value is not finite".into());
                            (ParameterDefinition::Value(0.0), Dim::NONE, None)
                        }
                        Err(err) => {
                            self.error(v.span(), "parameter", name, format!("value: {err}"));
                            (ParameterDefinition::Value(0.0), Dim::NONE, None)
                        }
                    }
                }
                (None, Some(x)) => match expr::parse(x.get_ref()) {
                    Ok(e) => (
                        ParameterDefinition::Derived(e.clone()),
                        Dim::NONE,
                        Some((e, x.span())),
                    ),
                    Err(err) => {
                        self.error(x.span(), "parameter", name, format!("expr: {err}"));
                        (ParameterDefinition::Value(0.0), Dim::NONE, None)
                    }
                },
                _ => {
                    self.error(
                        p.name.span(),
                        "parameter",
                        name,
                        "needs exactly one of `value` or `expr`".into(),
                    );
                    (ParameterDefinition::Value(0.0), Dim::NONE, None)
                }
            };
            out.push(Parameter {
                name: name.clone(),
                dim,
                definition,
            });
            exprs.push(e);
        }
        // Derived parameters: resolve dimensions in dependency order; a cycle is an error.
        let mut resolved: Vec<bool> = exprs.iter().map(|e| e.is_none()).collect();
        loop {
            let mut progress = false;
            for i in 0..out.len() {
                if resolved[i] {
                    continue;
                }
                let (e, span) = exprs[i]
                    .clone()
                    .expect("unresolved parameters have expressions");
                let deps = e.names();
                let mut ready = true;
                for d in &deps {
                    match names.get(*d) {
                        Some((Named::Parameter(j), _)) => ready &= resolved[*j],
                        Some((Named::Species(_), _)) | Some((Named::Observable(_), _)) => {
                            self.error(span.clone(), "parameter", &out[i].name, format!("expr uses '{d}', which is not a parameter; parameters cannot depend on counts (use a reaction `propensity`)"));
                            resolved[i] = true;
                            ready = false;
                            break;
                        }
                        None => {
                            let hint = did_you_mean(d, all_names.iter().map(|s| s.as_str()));
                            self.error(
                                span.clone(),
                                "parameter",
                                &out[i].name,
                                format!("expr uses unknown name '{d}'{hint}"),
                            );
                            resolved[i] = true;
                            ready = false;
                            break;
                        }
                    }
                }
                if resolved[i] || !ready {
                    continue;
                }
                let dim_of = |n: &str| match names.get(n) {
                    Some((Named::Parameter(j), _)) => Some(out[*j].dim),
                    _ => None,
                };
                match e.dim(&dim_of) {
                    Ok(d) => out[i].dim = d,
                    Err(err) => self.error(
                        span.clone(),
                        "parameter",
                        &out[i].name.clone(),
                        format!("expr: {err}"),
                    ),
                }
                resolved[i] = true;
                progress = true;
            }
            if !progress {
                break;
            }
        }
        for i in 0..out.len() {
            if !resolved[i] {
                let span = exprs[i].as_ref().map(|(_, s)| s.clone()).unwrap_or(0..0);
                let n = out[i].name.clone();
                self.error(
                    span,
                    "parameter",
                    &n,
                    "expr depends on itself through other parameters (a cycle)".into(),
                );
            }
        }
        out
    }

    /// Initial parameter values, derived ones computed in dependency order.
    fn parameter_values(&mut self, params: &[Parameter]) -> Vec<f64> {
        evaluate_parameters(params).0
    }

    fn species(
        &mut self,
        specs: &[spec::SpeciesSpec],
        compartments: &[Compartment],
    ) -> Vec<Species> {
        let mut out = Vec::new();
        for s in specs {
            let name = s.name.get_ref();
            let compartment = match &s.compartment {
                Some(c) => self
                    .compartment_named(c, compartments, "species", name)
                    .unwrap_or(0),
                None if compartments.len() == 1 => 0,
                None if compartments.is_empty() => {
                    self.error(
                        s.name.span(),
                        "species",
                        name,
                        "the model has no [[compartments]]; declare one with a volume".into(),
                    );
                    0
                }
                None => {
                    self.error(
                        s.name.span(),
                        "species",
                        name,
                        "the model has several compartments; say which with `compartment = ...`"
                            .into(),
                    );
                    0
                }
            };
            let nav = compartments
                .get(compartment)
                .map_or(1.0, |c| c.molecules_per_micromolar());
            let initial = self
                .count(&s.initial, nav, "species", name, "initial")
                .unwrap_or(0);
            out.push(Species {
                name: name.clone(),
                compartment,
                initial,
                constant: s.constant,
            });
        }
        out
    }

    /// The index of the compartment `c` names, or an error (with a suggestion) and None.
    fn compartment_named(
        &mut self,
        c: &spec::SpannedStr,
        compartments: &[Compartment],
        kind: &'static str,
        item: &str,
    ) -> Option<usize> {
        let found = compartments.iter().position(|k| &k.name == c.get_ref());
        if found.is_none() {
            let hint = did_you_mean(c.get_ref(), compartments.iter().map(|k| k.name.as_str()));
            self.error(
                c.span(),
                kind,
                item,
                format!("unknown compartment '{}'{hint}", c.get_ref()),
            );
        }
        found
    }

    /// A molecule count given as an integer, a count quantity or a concentration.
    fn count(
        &mut self,
        value: &Spanned<Amount>,
        nav: f64,
        kind: &'static str,
        item: &str,
        what: &str,
    ) -> Option<i64> {
        let n = match value.get_ref() {
            Amount::Int(i) => *i as f64,
            Amount::Float(f) if f.fract() == 0.0 => *f,
            Amount::Float(f) => {
                self.error(value.span(), kind, item, format!("{what} {f} is not a whole number of molecules; give a count or a concentration with a unit"));
                return None;
            }
            Amount::Text(t) => {
                match units::parse_quantity(t) {
                    Ok(q) if q.dim == Dim::CONC => (q.value * nav).round(),
                    Ok(q) if q.dim.is_none() => q.value.round(),
                    Ok(q) => {
                        self.error(value.span(), kind, item, format!("{what} '{t}' has unit {}, expected a count or a concentration (uM)", q.dim));
                        return None;
                    }
                    Err(e) => {
                        self.error(value.span(), kind, item, format!("{what}: {e}"));
                        return None;
                    }
                }
            }
        };
        if !n.is_finite() || n < 0.0 {
            self.error(
                value.span(),
                kind,
                item,
                format!("{what} must be a non-negative count, found {n}"),
            );
            return None;
        }
        Some(n as i64)
    }

    #[allow(clippy::too_many_arguments)]
    fn reactions(
        &mut self,
        specs: &[spec::ReactionSpec],
        species: &[Species],
        species_index: &HashMap<&str, usize>,
        compartments: &[Compartment],
        parameters: &[Parameter],
        values: &[f64],
        names: &HashMap<String, (Named, Range<usize>)>,
    ) -> Vec<Reaction> {
        let mut out = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let species_names: Vec<&str> = species.iter().map(|s| s.name.as_str()).collect();
        // Species already in a fast reaction: (reaction name, line).
        let mut fast_species: HashMap<usize, (String, usize)> = HashMap::new();
        for r in specs {
            let name = r.name.get_ref();
            if let Some(first) = seen.insert(name, r.name.span().start) {
                let first_place = self.sources.place(first, r.name.span().start);
                self.error(
                    r.name.span(),
                    "reaction",
                    name,
                    format!("duplicate name (first declared on {first_place})"),
                );
            } else if !is_identifier(name) {
                self.error(
                    r.name.span(),
                    "reaction",
                    name,
                    "is not a valid name".into(),
                );
            }
            let eq = match parse_equation(r.equation.get_ref()) {
                Ok(eq) => eq,
                Err(e) => {
                    self.error(
                        r.equation.span(),
                        "reaction",
                        name,
                        format!("equation: {e}"),
                    );
                    continue;
                }
            };
            let resolve_side =
                |loader: &mut Self, side: &[(String, u32)]| -> Option<Vec<(usize, u32)>> {
                    let mut ok = true;
                    let v = side
                        .iter()
                        .filter_map(|(n, c)| match species_index.get(n.as_str()) {
                            Some(&i) => Some((i, *c)),
                            None => {
                                let hint = did_you_mean(n, species_names.iter().copied());
                                loader.error(
                                    r.equation.span(),
                                    "reaction",
                                    name,
                                    format!("unknown species '{n}'{hint}"),
                                );
                                ok = false;
                                None
                            }
                        })
                        .collect();
                    ok.then_some(v)
                };
            let (Some(reactants), Some(products)) = (
                resolve_side(self, &eq.reactants),
                resolve_side(self, &eq.products),
            ) else {
                continue;
            };
            let fast = match r.fast.as_ref().filter(|f| *f.get_ref()) {
                Some(flag) => self.fast_pair(
                    flag.span(),
                    name,
                    eq.reversible,
                    &reactants,
                    &products,
                    &species_names,
                    &mut fast_species,
                ),
                None => false,
            };
            let forward = Reaction {
                name: name.clone(),
                reactants: reactants.clone(),
                products: products.clone(),
                law: RateLaw::Custom(expr::Expr::Num(0.0)),
                fast,
            };
            let backward = Reaction {
                name: format!("{name}.rev"),
                reactants: products,
                products: reactants,
                law: RateLaw::Custom(expr::Expr::Num(0.0)),
                fast,
            };
            let rate_compartment = match &r.compartment {
                None => None,
                Some(c) if r.propensity.is_some() => {
                    self.error(c.span(), "reaction", name, "`compartment` says in which compartment's concentration units a mass-action `rate` is given; a custom `propensity` is in events/s and takes none".into());
                    continue;
                }
                Some(c) => match self.compartment_named(c, compartments, "reaction", name) {
                    Some(i) => Some(i),
                    None => continue,
                },
            };
            match (&r.rate, &r.reverse, &r.propensity, eq.reversible) {
                (Some(rate), rev, None, reversible) => {
                    if reversible != rev.is_some() {
                        let msg = if reversible { "a reversible reaction (<->) needs a `reverse` rate" } else { "`reverse` is only for reversible reactions (<->)" };
                        self.error(r.name.span(), "reaction", name, msg.into());
                        continue;
                    }
                    if let Some(law) = self.mass_action(&forward, rate, "rate", rate_compartment, species, compartments, parameters, values, names) {
                        out.push(Reaction { law, ..forward });
                    }
                    if let Some(rev) = rev {
                        if let Some(law) = self.mass_action(&backward, rev, "reverse", rate_compartment, species, compartments, parameters, values, names) {
                            out.push(Reaction { law, ..backward });
                        }
                    }
                }
                (None, None, Some(p), false) => {
                    if let Some(law) = self.custom(&forward, p, parameters, names) {
                        out.push(Reaction { law, ..forward });
                    }
                }
                (None, None, Some(_), true) => {
                    self.error(r.name.span(), "reaction", name, "a custom `propensity` needs a one-way equation (->); write the reverse as its own reaction".into())
                }
                _ => self.error(r.name.span(), "reaction", name, "needs either `rate` (mass action) or `propensity` (custom), not both or neither".into()),
            }
        }
        out
    }

    /// Checks a `fast = true` declaration (at `span`) of reaction `name`: a reversible
    /// `A <-> B` or `A + B <-> C` (each species once, stoichiometry 1) whose species are in no
    /// other fast reaction (`claimed` maps a species to the fast reaction and line that hold it).
    /// True when it is a valid fast pair; otherwise the error is recorded.
    #[allow(clippy::too_many_arguments)]
    fn fast_pair(
        &mut self,
        span: Range<usize>,
        name: &str,
        reversible: bool,
        reactants: &[(usize, u32)],
        products: &[(usize, u32)],
        species_names: &[&str],
        claimed: &mut HashMap<usize, (String, usize)>,
    ) -> bool {
        if !reversible {
            self.error(
                span,
                "reaction",
                name,
                "`fast = true` is only for reversible mass-action reactions (<->)".into(),
            );
            return false;
        }
        let (one, other) = if reactants.len() <= products.len() {
            (reactants, products)
        } else {
            (products, reactants)
        };
        let distinct = !reactants
            .iter()
            .any(|(s, _)| products.iter().any(|(t, _)| s == t));
        let unit = reactants.iter().chain(products).all(|&(_, n)| n == 1);
        if !(one.len() == 1 && (1..=2).contains(&other.len()) && distinct && unit) {
            self.error(span, "reaction", name, "a fast reaction must have the form 'A <-> B' or 'A + B <-> C' (distinct species, stoichiometry 1)".into());
            return false;
        }
        let line = self.sources.locate(span.start).1;
        for &(s, _) in reactants.iter().chain(products) {
            if let Some((other, other_line)) = claimed.get(&s) {
                let msg = format!("species '{}' is already in fast reaction '{other}' (line {other_line}); fast reactions must not share species", species_names[s]);
                self.error(span, "reaction", name, msg);
                return false;
            }
        }
        for &(s, _) in reactants.iter().chain(products) {
            claimed.insert(s, (name.to_string(), line));
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn mass_action(
        &mut self,
        reaction: &Reaction,
        rate: &Spanned<Amount>,
        field: &str,
        rate_compartment: Option<usize>,
        species: &[Species],
        compartments: &[Compartment],
        parameters: &[Parameter],
        values: &[f64],
        names: &HashMap<String, (Named, Range<usize>)>,
    ) -> Option<RateLaw> {
        let name = reaction.name.trim_end_matches(".rev").to_string();
        let order = reaction.order();
        let expected = Dim::rate_of_order(order);
        let e = match rate.get_ref() {
            Amount::Int(_) | Amount::Float(_) => {
                let text = amount_text(rate.get_ref());
                self.error(rate.span(), "reaction", &name, format!("{field} '{text}' has no unit; expected {expected} for a reaction of order {order}"));
                return None;
            }
            Amount::Text(t) => match units::parse_quantity(t) {
                Ok(q) => expr::Expr::Quantity(q),
                Err(unit_err) => match expr::parse(t) {
                    Ok(e) => e,
                    Err(expr_err) => {
                        let msg = if t
                            .trim_start()
                            .starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
                        {
                            unit_err.to_string()
                        } else {
                            expr_err.to_string()
                        };
                        self.error(
                            rate.span(),
                            "reaction",
                            &name,
                            format!("{field} '{t}': {msg}"),
                        );
                        return None;
                    }
                },
            },
        };
        let dim_of = |n: &str| match names.get(n) {
            Some((Named::Parameter(j), _)) => Some(parameters[*j].dim),
            _ => None,
        };
        for n in e.names() {
            match names.get(n) {
                Some((Named::Parameter(_), _)) => {}
                Some(_) => {
                    self.error(rate.span(), "reaction", &name, format!("{field} uses '{n}', which is not a parameter; a rate that depends on counts is a custom `propensity`"));
                    return None;
                }
                None => {
                    let cands: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
                    let hint = did_you_mean(n, cands);
                    self.error(
                        rate.span(),
                        "reaction",
                        &name,
                        format!("{field} uses unknown parameter '{n}'{hint}"),
                    );
                    return None;
                }
            }
        }
        match e.dim(&dim_of) {
            Ok(d) if d == expected => {}
            Ok(d) => {
                self.error(
                    rate.span(),
                    "reaction",
                    &name,
                    format!(
                        "{field} has unit {d}, expected {expected} for a reaction of order {order}"
                    ),
                );
                return None;
            }
            Err(err) => {
                self.error(rate.span(), "reaction", &name, format!("{field}: {err}"));
                return None;
            }
        }
        // The value with the initial parameters must be a finite, non-negative rate.
        let resolve = |n: &str| match names.get(n) {
            Some((Named::Parameter(j), _)) => Some(Slot::Param(*j as u32)),
            _ => None,
        };
        // A parameter that could not be computed has been reported already.
        let inputs_known = e.names().iter().all(|n| match names.get(*n) {
            Some((Named::Parameter(j), _)) => !values[*j].is_nan(),
            _ => true,
        });
        if let (Ok(code), true) = (Compiled::new(&e, &resolve), inputs_known) {
            let v = code.eval(values, &[]);
            if !v.is_finite() || v < 0.0 {
                self.error(
                    rate.span(),
                    "reaction",
                    &name,
                    format!("{field} evaluates to {v}; a rate must be finite and not negative"),
                );
                return None;
            }
        }
        // The rate is a concentration rate in compartment c: events/s = k · NAV_c · Π [X_i]^ν_i
        // with [X_i] = n_i / NAV of X_i's own compartment (falling factorials for ν > 1). So
        // scale = Π_k NAV_k^e_k with e_c = 1 − (order in c) and e_k = −(order in k) otherwise.
        let side = if reaction.reactants.is_empty() {
            &reaction.products
        } else {
            &reaction.reactants
        };
        let mut side_compartments: Vec<usize> =
            side.iter().map(|&(s, _)| species[s].compartment).collect();
        side_compartments.sort_unstable();
        side_compartments.dedup();
        let c = match (rate_compartment, side_compartments.as_slice()) {
            (Some(c), _) => c,
            (None, [c]) => *c,
            (None, []) => 0,
            (None, several) => {
                let listed: Vec<&str> = several
                    .iter()
                    .map(|&k| compartments.get(k).map_or("?", |k| k.name.as_str()))
                    .collect();
                let which = if reaction.reactants.is_empty() {
                    "products"
                } else {
                    "reactants"
                };
                self.error(rate.span(), "reaction", &name, format!("its {which} are in several compartments ({}); say in which compartment's concentration units the rate is given with `compartment = \"...\"` (see models/README.md, Several compartments)", listed.join(", ")));
                return None;
            }
        };
        let nav = |k: usize| {
            compartments
                .get(k)
                .map_or(1.0, |k| k.molecules_per_micromolar())
        };
        let mut exponents: Vec<(usize, i32)> = vec![(c, 1)];
        for &(s, n) in &reaction.reactants {
            let k = species[s].compartment;
            match exponents.iter_mut().find(|(j, _)| *j == k) {
                Some((_, e)) => *e -= n as i32,
                None => exponents.push((k, -(n as i32))),
            }
        }
        let scale = exponents
            .iter()
            .map(|&(k, e)| nav(k).powi(e))
            .product::<f64>();
        Some(RateLaw::MassAction { rate: e, scale })
    }

    fn custom(
        &mut self,
        reaction: &Reaction,
        text: &spec::SpannedStr,
        parameters: &[Parameter],
        names: &HashMap<String, (Named, Range<usize>)>,
    ) -> Option<RateLaw> {
        let name = &reaction.name;
        let e = match expr::parse(text.get_ref()) {
            Ok(e) => e,
            Err(err) => {
                self.error(text.span(), "reaction", name, format!("propensity: {err}"));
                return None;
            }
        };
        let all: Vec<&str> = names.keys().map(|s| s.as_str()).collect();
        for n in e.names() {
            match names.get(n) {
                Some((Named::Parameter(_), _)) | Some((Named::Species(_), _)) => {}
                Some((Named::Observable(_), _)) => {
                    self.error(
                        text.span(),
                        "reaction",
                        name,
                        format!("propensity uses observable '{n}'; write its species out"),
                    );
                    return None;
                }
                None => {
                    let hint = did_you_mean(n, all.iter().copied());
                    self.error(
                        text.span(),
                        "reaction",
                        name,
                        format!("propensity uses unknown name '{n}'{hint}"),
                    );
                    return None;
                }
            }
        }
        let dim_of = |n: &str| match names.get(n) {
            Some((Named::Parameter(j), _)) => Some(parameters[*j].dim),
            Some((Named::Species(_), _)) => Some(Dim::NONE),
            _ => None,
        };
        let per_second = Dim::rate_of_order(1);
        match e.dim(&dim_of) {
            Ok(d) if d == per_second => Some(RateLaw::Custom(e)),
            Ok(d) => {
                self.error(text.span(), "reaction", name, format!("propensity has unit {d}, expected {per_second} (events per second; species are counts)"));
                None
            }
            Err(err) => {
                self.error(text.span(), "reaction", name, format!("propensity: {err}"));
                None
            }
        }
    }

    fn observables(
        &mut self,
        specs: &[spec::ObservableSpec],
        species_index: &HashMap<&str, usize>,
        species_names: &[&str],
    ) -> Vec<Observable> {
        let mut out = Vec::new();
        for o in specs {
            let name = o.name.get_ref();
            let terms = match expr::parse(o.expr.get_ref()).map(|e| e.linear_terms()) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    self.error(
                        o.expr.span(),
                        "observable",
                        name,
                        "expr must be a weighted sum of species, e.g. 'Rs + RsP + 1.5 * Rs831'"
                            .into(),
                    );
                    continue;
                }
                Err(err) => {
                    self.error(o.expr.span(), "observable", name, format!("expr: {err}"));
                    continue;
                }
            };
            let mut resolved = Vec::new();
            for (n, w) in terms {
                match species_index.get(n.as_str()) {
                    Some(&i) => resolved.push((i, w)),
                    None => {
                        let hint = did_you_mean(&n, species_names.iter().copied());
                        self.error(
                            o.expr.span(),
                            "observable",
                            name,
                            format!("unknown species '{n}'{hint}"),
                        );
                    }
                }
            }
            out.push(Observable {
                name: name.clone(),
                terms: resolved,
            });
        }
        out
    }

    fn protocols(&mut self, specs: &[spec::ProtocolSpec], ctx: &ActionContext) -> Vec<Protocol> {
        let mut out: Vec<Protocol> = Vec::new();
        for p in specs {
            let name = p.name.get_ref();
            if out.iter().any(|o| &o.name == name) {
                self.error(p.name.span(), "protocol", name, "duplicate name".into());
                continue;
            }
            let t_end = p
                .t_end
                .as_ref()
                .and_then(|t| self.time(t, "protocol", name, "t_end"));
            let mut trains = Vec::new();
            for t in &p.trains {
                let start = self.time(&t.start, "protocol", name, "train start");
                let freq = self.quantity(
                    &t.frequency,
                    Dim::rate_of_order(1),
                    "protocol",
                    name,
                    "train frequency",
                );
                if let Some(f) = freq {
                    if f <= 0.0 {
                        self.error(
                            t.frequency.span(),
                            "protocol",
                            name,
                            format!("train frequency must be positive, found {f} Hz"),
                        );
                    }
                }
                let count = *t.count.get_ref();
                if count < 1 {
                    self.error(
                        t.count.span(),
                        "protocol",
                        name,
                        format!("train count must be at least 1, found {count}"),
                    );
                }
                let width = t
                    .width
                    .as_ref()
                    .and_then(|w| self.time(w, "protocol", name, "train width"));
                if width == Some(0.0) {
                    self.error(
                        t.width.as_ref().map(|w| w.span()).unwrap_or(0..0),
                        "protocol",
                        name,
                        "train width must be positive".into(),
                    );
                }
                if !t.off.is_empty() && t.width.is_none() {
                    self.error(
                        t.count.span(),
                        "protocol",
                        name,
                        "train has `off` actions but no `width`".into(),
                    );
                }
                if t.on.is_empty() && t.off.is_empty() && t.drives.is_empty() {
                    self.error(
                        t.count.span(),
                        "protocol",
                        name,
                        "train has no `on` or `off` actions and no `drives`".into(),
                    );
                }
                let on = self.actions(&t.on, name, ctx);
                let off = self.actions(&t.off, name, ctx);
                let drives = t
                    .drives
                    .iter()
                    .filter_map(|d| self.drive(d, name, ctx))
                    .collect();
                if let (Some(start), Some(f)) = (start, freq) {
                    if f > 0.0 && count >= 1 {
                        trains.push(Train {
                            start,
                            period: 1.0 / f,
                            count: count as u64,
                            width,
                            on,
                            off,
                            drives,
                        });
                    }
                }
            }
            let mut events = Vec::new();
            for e in &p.events {
                let time = self.time(&e.time, "protocol", name, "event time");
                let actions = self.actions(&e.actions, name, ctx);
                if e.actions.is_empty() {
                    self.error(
                        e.time.span(),
                        "protocol",
                        name,
                        "event has no actions".into(),
                    );
                }
                if let Some(time) = time {
                    events.push(Event { time, actions });
                }
            }
            let drive_samples = self.drive_samples(p, name);
            self.check_driven_parameters(&trains, &events, p, ctx);
            out.push(Protocol {
                name: name.clone(),
                description: p.description.clone().unwrap_or_default(),
                t_end,
                trains,
                events,
                drive_samples,
            });
        }
        out
    }

    /// One `drives` entry of a train.
    fn drive(&mut self, d: &spec::DriveSpec, protocol: &str, ctx: &ActionContext) -> Option<Drive> {
        let pname = d.parameter.get_ref().as_str();
        let Some(Named::Parameter(i)) = ctx.names.get(pname).map(|(n, _)| *n) else {
            let hint = did_you_mean(pname, ctx.parameters.iter().map(|p| p.name.as_str()));
            self.error(
                d.parameter.span(),
                "protocol",
                protocol,
                format!("drive of unknown parameter '{pname}'{hint}"),
            );
            return None;
        };
        let param = &ctx.parameters[i];
        let ParameterDefinition::Value(base) = param.definition else {
            self.error(d.parameter.span(), "protocol", protocol, format!("'{pname}' is computed from other parameters (expr) and cannot be driven; drive one of its inputs"));
            return None;
        };
        let step = self.quantity(
            &d.step,
            param.dim,
            "protocol",
            protocol,
            &format!("drive step for '{pname}'"),
        );
        let tau = self.time(
            &d.tau,
            "protocol",
            protocol,
            &format!("drive tau for '{pname}'"),
        );
        if tau == Some(0.0) {
            self.error(
                d.tau.span(),
                "protocol",
                protocol,
                format!("drive tau for '{pname}' must be positive"),
            );
        }
        match (step, tau) {
            (Some(step), Some(tau)) if tau > 0.0 => Some(Drive {
                parameter: i,
                base,
                step,
                tau,
            }),
            _ => None,
        }
    }

    /// `drive_samples`: sorted offsets from 0, default `[0]`.
    fn drive_samples(&mut self, p: &spec::ProtocolSpec, protocol: &str) -> Vec<f64> {
        let Some(list) = &p.drive_samples else {
            return vec![0.0];
        };
        let mut out = Vec::new();
        for a in list.get_ref() {
            let item = Spanned::new(list.span(), a.clone());
            if let Some(t) = self.time(&item, "protocol", protocol, "drive sample") {
                out.push(t);
            }
        }
        if out.first() != Some(&0.0) || out.windows(2).any(|w| w[1] <= w[0]) {
            self.error(
                list.span(),
                "protocol",
                protocol,
                "drive_samples must start at \"0 ms\" and increase strictly".into(),
            );
        }
        out
    }

    /// A driven parameter belongs to its drives: no action may set or scale it.
    fn check_driven_parameters(
        &mut self,
        trains: &[Train],
        events: &[Event],
        p: &spec::ProtocolSpec,
        ctx: &ActionContext,
    ) {
        let driven: Vec<usize> = trains
            .iter()
            .flat_map(|t| t.drives.iter().map(|d| d.parameter))
            .collect();
        if driven.is_empty() {
            if let Some(list) = &p.drive_samples {
                self.warn(
                    list.span(),
                    "protocol",
                    p.name.get_ref(),
                    "drive_samples given but no train drives a parameter".into(),
                );
            }
            return;
        }
        let actions = trains
            .iter()
            .flat_map(|t| t.on.iter().chain(&t.off))
            .chain(events.iter().flat_map(|e| &e.actions));
        for a in actions {
            if let Action::SetParameter { parameter, .. }
            | Action::ScaleParameter { parameter, .. } = a
            {
                if driven.contains(parameter) {
                    let span = p.name.span();
                    self.error(span, "protocol", p.name.get_ref(), format!("parameter '{}' is driven by a train and also set or scaled by an action; use another parameter", ctx.parameters[*parameter].name));
                }
            }
        }
    }

    fn actions(
        &mut self,
        specs: &[spec::ActionSpec],
        protocol: &str,
        ctx: &ActionContext,
    ) -> Vec<Action> {
        specs
            .iter()
            .filter_map(|a| self.action(a, protocol, ctx))
            .collect()
    }

    fn action(
        &mut self,
        a: &spec::ActionSpec,
        protocol: &str,
        ctx: &ActionContext,
    ) -> Option<Action> {
        let verbs = [&a.set, &a.add, &a.remove, &a.scale, &a.binomial];
        let given: Vec<&spec::SpannedStr> = verbs.iter().filter_map(|v| v.as_ref()).collect();
        let target = match given.as_slice() {
            [one] => *one,
            [] => {
                let span = a
                    .value
                    .as_ref()
                    .map(|v| v.span())
                    .or(a.amount.as_ref().map(|v| v.span()))
                    .unwrap_or(0..0);
                self.error(
                    span,
                    "protocol",
                    protocol,
                    "an action needs one of set, add, remove, scale, binomial".into(),
                );
                return None;
            }
            many => {
                self.error(many[1].span(), "protocol", protocol, "an action has more than one verb (set, add, remove, scale, binomial); split it".into());
                return None;
            }
        };
        let tname = target.get_ref().as_str();
        let lookup = ctx.names.get(tname).map(|(n, _)| *n);
        let unknown = |loader: &mut Self, what: &str| {
            let hint = did_you_mean(tname, ctx.all_names.iter().map(|s| s.as_str()));
            loader.error(
                target.span(),
                "protocol",
                protocol,
                format!("action on unknown {what} '{tname}'{hint}"),
            );
            None
        };
        let nav_of = |s: usize| {
            ctx.compartments
                .get(ctx.species[s].compartment)
                .map_or(1.0, |c| c.molecules_per_micromolar())
        };
        let missing = |loader: &mut Self, field: &str, verb: &str| {
            loader.error(
                target.span(),
                "protocol",
                protocol,
                format!("`{verb} = \"{tname}\"` needs `{field}`"),
            );
            None
        };
        if a.set.is_some() {
            let Some(value) = &a.value else {
                return missing(self, "value", "set");
            };
            match lookup {
                Some(Named::Parameter(i)) => {
                    if let ParameterDefinition::Derived(_) = ctx.parameters[i].definition {
                        self.error(target.span(), "protocol", protocol, format!("'{tname}' is computed from other parameters (expr) and cannot be set; set its inputs"));
                        return None;
                    }
                    let v = self.quantity(
                        value,
                        ctx.parameters[i].dim,
                        "protocol",
                        protocol,
                        &format!("value for '{tname}'"),
                    )?;
                    Some(Action::SetParameter {
                        parameter: i,
                        value: v,
                    })
                }
                Some(Named::Species(i)) => {
                    let count = self.count(
                        value,
                        nav_of(i),
                        "protocol",
                        protocol,
                        &format!("value for '{tname}'"),
                    )?;
                    Some(Action::SetSpecies { species: i, count })
                }
                _ => unknown(self, "parameter or species"),
            }
        } else if a.add.is_some() || a.remove.is_some() {
            let verb = if a.add.is_some() { "add" } else { "remove" };
            let Some(amount) = &a.amount else {
                return missing(self, "amount", verb);
            };
            match lookup {
                Some(Named::Species(i)) => {
                    let count = self.count(
                        amount,
                        nav_of(i),
                        "protocol",
                        protocol,
                        &format!("amount for '{tname}'"),
                    )?;
                    Some(if verb == "add" {
                        Action::AddSpecies { species: i, count }
                    } else {
                        Action::RemoveSpecies { species: i, count }
                    })
                }
                _ => unknown(self, "species"),
            }
        } else if a.scale.is_some() {
            let Some(factor) = &a.factor else {
                return missing(self, "factor", "scale");
            };
            let f = *factor.get_ref();
            if !f.is_finite() || f < 0.0 {
                self.error(
                    factor.span(),
                    "protocol",
                    protocol,
                    format!(
                        "scale factor for '{tname}' must be finite and not negative, found {f}"
                    ),
                );
                return None;
            }
            match lookup {
                Some(Named::Parameter(i)) => {
                    if let ParameterDefinition::Derived(_) = ctx.parameters[i].definition {
                        self.error(target.span(), "protocol", protocol, format!("'{tname}' is computed from other parameters (expr) and cannot be scaled; scale its inputs"));
                        return None;
                    }
                    Some(Action::ScaleParameter {
                        parameter: i,
                        factor: f,
                    })
                }
                _ => unknown(self, "parameter"),
            }
        } else {
            let Some(p) = &a.p else {
                return missing(self, "p", "binomial");
            };
            let pv = *p.get_ref();
            if !(0.0..=1.0).contains(&pv) {
                self.error(
                    p.span(),
                    "protocol",
                    protocol,
                    format!("binomial p for '{tname}' must be in [0, 1], found {pv}"),
                );
                return None;
            }
            let Some(Named::Species(i)) = lookup else {
                return unknown(self, "species");
            };
            let into = match &a.into {
                None => None,
                Some(d) => match ctx.names.get(d.get_ref()).map(|(n, _)| *n) {
                    Some(Named::Species(j)) => Some(j),
                    _ => {
                        let hint =
                            did_you_mean(d.get_ref(), ctx.species.iter().map(|s| s.name.as_str()));
                        self.error(
                            d.span(),
                            "protocol",
                            protocol,
                            format!("binomial into unknown species '{}'{hint}", d.get_ref()),
                        );
                        return None;
                    }
                },
            };
            Some(Action::Binomial {
                species: i,
                p: pv,
                into,
            })
        }
    }

    fn window(&mut self, w: &Spanned<Vec<String>>, outcome: &str, what: &str) -> Option<Window> {
        let [start, end] = w.get_ref().as_slice() else {
            self.error(w.span(), "outcome", outcome, format!("{what} must be [start, end], e.g. [\"0 s\", \"300 s\"] or [\"end - 300 s\", \"end\"]"));
            return None;
        };
        let start = self.time_point(start, w.span(), outcome, what)?;
        let end = self.time_point(end, w.span(), outcome, what)?;
        if let (TimePoint::Absolute(a), TimePoint::Absolute(b))
        | (TimePoint::BeforeEnd(b), TimePoint::BeforeEnd(a)) = (start, end)
        {
            if a >= b {
                self.error(
                    w.span(),
                    "outcome",
                    outcome,
                    format!("{what} ends before it starts"),
                );
                return None;
            }
        }
        Some(Window { start, end })
    }

    fn time_point(
        &mut self,
        text: &str,
        span: Range<usize>,
        outcome: &str,
        what: &str,
    ) -> Option<TimePoint> {
        let t = text.trim();
        let parse = |s: &str| {
            units::parse_quantity(s)
                .map_err(|e| e.to_string())
                .and_then(|q| {
                    if q.dim == Dim::TIME && q.value >= 0.0 {
                        Ok(q.value)
                    } else {
                        Err(format!("'{s}' is not a time (e.g. \"300 s\")"))
                    }
                })
        };
        let result = match t.strip_prefix("end") {
            Some(rest) if rest.trim().is_empty() => Ok(TimePoint::BeforeEnd(0.0)),
            Some(rest) => match rest.trim().strip_prefix('-') {
                Some(d) => parse(d.trim()).map(TimePoint::BeforeEnd),
                None => Err(format!("'{t}': write \"end\" or \"end - 300 s\"")),
            },
            None => parse(t).map(TimePoint::Absolute),
        };
        result
            .map_err(|m| self.error(span, "outcome", outcome, format!("{what}: {m}")))
            .ok()
    }

    fn outcomes(
        &mut self,
        specs: &[spec::OutcomeSpec],
        quantity_of: &dyn Fn(&str) -> Option<Quantity>,
        quantity_names: &[&str],
    ) -> Vec<Outcome> {
        let mut out: Vec<Outcome> = Vec::new();
        // Column names of outcomes.parquet: the fixed ones, then each outcome's.
        let mut columns: Vec<String> = vec!["run".into(), "seed".into(), "events".into()];
        for o in specs {
            let name = o.name.get_ref();
            if out.iter().any(|x| &x.name == name) {
                self.error(o.name.span(), "outcome", name, "duplicate name".into());
                continue;
            }
            let own: Vec<String> = if o.kind.get_ref() == "relative_change" {
                ["baseline", "final", "pct", "class"]
                    .iter()
                    .map(|s| format!("{name}_{s}"))
                    .collect()
            } else {
                vec![name.clone()]
            };
            if let Some(clash) = own.iter().find(|c| columns.contains(c)) {
                self.error(
                    o.name.span(),
                    "outcome",
                    name,
                    format!("its column '{clash}' in outcomes.parquet is already used; rename the outcome"),
                );
                continue;
            }
            columns.extend(own);
            let Some(quantity) = quantity_of(o.observable.get_ref()) else {
                let hint = did_you_mean(o.observable.get_ref(), quantity_names.iter().copied());
                self.error(
                    o.observable.span(),
                    "outcome",
                    name,
                    format!(
                        "unknown species or observable '{}'{hint}",
                        o.observable.get_ref()
                    ),
                );
                continue;
            };
            let window = |loader: &mut Self| match &o.window {
                Some(w) => loader.window(w, name, "window"),
                None => Some(Window::WHOLE_RUN),
            };
            let kind = match o.kind.get_ref().as_str() {
                "relative_change" => {
                    let (Some(b), Some(f)) = (&o.baseline, &o.r#final) else {
                        self.error(
                            o.kind.span(),
                            "outcome",
                            name,
                            "relative_change needs `baseline` and `final` windows".into(),
                        );
                        continue;
                    };
                    let (Some(ltd), Some(ltp)) = (&o.ltd_below, &o.ltp_above) else {
                        self.error(o.kind.span(), "outcome", name, "relative_change needs `ltd_below` and `ltp_above` (% change thresholds)".into());
                        continue;
                    };
                    if *ltd.get_ref() >= *ltp.get_ref() {
                        self.error(
                            ltd.span(),
                            "outcome",
                            name,
                            "ltd_below must be below ltp_above".into(),
                        );
                        continue;
                    }
                    let (Some(baseline), Some(last)) = (
                        self.window(b, name, "baseline"),
                        self.window(f, name, "final"),
                    ) else {
                        continue;
                    };
                    OutcomeKind::RelativeChange {
                        baseline,
                        last,
                        ltd_below: *ltd.get_ref(),
                        ltp_above: *ltp.get_ref(),
                    }
                }
                "first_passage" => {
                    let (Some(b), Some(w), Some(below)) = (&o.baseline, &o.window, &o.below) else {
                        self.error(o.kind.span(), "outcome", name, "first_passage needs `baseline` and `window` windows and `below` (% change vs the baseline mean)".into());
                        continue;
                    };
                    if !below.get_ref().is_finite() || *below.get_ref() <= -100.0 {
                        self.error(
                            below.span(),
                            "outcome",
                            name,
                            format!(
                                "`below` must be a % change above -100, found {}",
                                below.get_ref()
                            ),
                        );
                        continue;
                    }
                    let hold = match &o.hold {
                        Some(h) => match self.quantity(h, Dim::TIME, "outcome", name, "hold") {
                            Some(v) if v >= 0.0 && v.is_finite() => v,
                            Some(v) => {
                                self.error(
                                    h.span(),
                                    "outcome",
                                    name,
                                    format!("`hold` must be a duration >= 0, found {v} s"),
                                );
                                continue;
                            }
                            None => continue,
                        },
                        None => 0.0,
                    };
                    let (Some(baseline), Some(window)) = (
                        self.window(b, name, "baseline"),
                        self.window(w, name, "window"),
                    ) else {
                        continue;
                    };
                    OutcomeKind::FirstPassage {
                        baseline,
                        window,
                        below: *below.get_ref(),
                        hold,
                    }
                }
                "peak" => OutcomeKind::Peak(match window(self) {
                    Some(w) => w,
                    None => continue,
                }),
                "min" => OutcomeKind::Min(match window(self) {
                    Some(w) => w,
                    None => continue,
                }),
                "mean" => OutcomeKind::Mean(match window(self) {
                    Some(w) => w,
                    None => continue,
                }),
                "integral" => OutcomeKind::Integral(match window(self) {
                    Some(w) => w,
                    None => continue,
                }),
                other => {
                    let hint = did_you_mean(
                        other,
                        [
                            "relative_change",
                            "first_passage",
                            "peak",
                            "min",
                            "mean",
                            "integral",
                        ],
                    );
                    self.error(
                        o.kind.span(),
                        "outcome",
                        name,
                        format!("unknown kind '{other}'{hint}"),
                    );
                    continue;
                }
            };
            let relative = matches!(kind, OutcomeKind::RelativeChange { .. });
            let passage = matches!(kind, OutcomeKind::FirstPassage { .. });
            let extras = [
                (o.window.is_some() && relative, "window"),
                (!relative && !passage && o.baseline.is_some(), "baseline"),
                (!relative && o.r#final.is_some(), "final"),
                (
                    !relative && (o.ltd_below.is_some() || o.ltp_above.is_some()),
                    "ltd_below/ltp_above",
                ),
                (!passage && o.below.is_some(), "below"),
                (!passage && o.hold.is_some(), "hold"),
            ];
            if let Some((_, field)) = extras.iter().find(|(bad, _)| *bad) {
                self.error(
                    o.kind.span(),
                    "outcome",
                    name,
                    format!("`{field}` does not apply to kind '{}'", o.kind.get_ref()),
                );
                continue;
            }
            out.push(Outcome {
                name: name.clone(),
                quantity,
                kind,
            });
        }
        out
    }
}

struct ActionContext<'m> {
    names: &'m HashMap<String, (Named, Range<usize>)>,
    all_names: &'m [String],
    species: &'m [Species],
    compartments: &'m [Compartment],
    parameters: &'m [Parameter],
}

/// Parameter values with derived ones computed in dependency order (None if a definition is
/// unresolvable, which validation has already reported).
pub fn parameter_values(params: &[Parameter]) -> Option<Vec<f64>> {
    let (values, complete) = evaluate_parameters(params);
    complete.then_some(values)
}

/// Parameter values, NaN for any that cannot be computed; the flag says whether all could.
fn evaluate_parameters(params: &[Parameter]) -> (Vec<f64>, bool) {
    let mut values: Vec<f64> = params
        .iter()
        .map(|p| match p.definition {
            ParameterDefinition::Value(x) => x,
            ParameterDefinition::Derived(_) => f64::NAN,
        })
        .collect();
    let (order, complete) = derived_in_order(params);
    for (i, code) in &order {
        values[*i] = code.eval(&values, &[]);
    }
    (values, complete)
}

/// The derived parameters, compiled, in an order where every input comes before its users;
/// the flag says whether all of them could be placed (false after an unknown name or a cycle,
/// which validation reports).
pub fn derived_in_order(params: &[Parameter]) -> (Vec<(usize, Compiled)>, bool) {
    let index: HashMap<&str, usize> = params
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let resolve = |n: &str| index.get(n).map(|&i| Slot::Param(i as u32));
    let mut done: Vec<bool> = params
        .iter()
        .map(|p| matches!(p.definition, ParameterDefinition::Value(_)))
        .collect();
    let mut order = Vec::new();
    loop {
        let mut progress = false;
        for (i, p) in params.iter().enumerate() {
            let ParameterDefinition::Derived(e) = &p.definition else {
                continue;
            };
            let ready = e
                .names()
                .iter()
                .all(|n| index.get(n).is_some_and(|&j| done[j]));
            if done[i] || !ready {
                continue;
            }
            let Ok(code) = Compiled::new(e, &resolve) else {
                continue;
            };
            order.push((i, code));
            done[i] = true;
            progress = true;
        }
        if !progress {
            break;
        }
    }
    (order, done.iter().all(|&d| d))
}

/// The quantity an amount states: a plain number is dimensionless, text is parsed with its unit.
fn amount_quantity(amount: &Amount) -> Result<units::Quantity, units::UnitError> {
    match amount {
        Amount::Int(i) => Ok(units::Quantity {
            value: *i as f64,
            dim: Dim::NONE,
        }),
        Amount::Float(f) => Ok(units::Quantity {
            value: *f,
            dim: Dim::NONE,
        }),
        Amount::Text(t) => units::parse_quantity(t),
    }
}

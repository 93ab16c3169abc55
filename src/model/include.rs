//! `[[include]]`: a model file made of other model files.
//!
//! ```toml
//! [[include]]
//! file = "release_std.toml"          # relative to the including file
//! prefix = "pre_"                    # optional: put before every name of the included file
//! rename = { Glu = "Glu_cleft" }     # optional: these names instead (no prefix)
//! connect = ["spine"]                # optional: names kept as they are (no prefix)
//! ```
//!
//! Every item of the included file (compartments, parameters, species, reactions, observables,
//! protocols, outcomes, variants) is added to the including model under its new name, and every
//! reference to it inside the included file (equations, expressions, actions, outcomes, variants)
//! follows. A name that `rename` or `connect` gives and that the including model already declares
//! as the same kind of item is a *connection*: the including model's declaration is used and the
//! included one is dropped (a species of the included file becomes the including file's species, a
//! reaction or protocol is replaced). Any other name declared twice is an error naming both files
//! and lines. The included file's `[model]` header is not used. Includes nest; a cycle is an error.
//!
//! Locations: each file is parsed with its spans offset into one address space (the included text
//! preceded by as many blanks as the files before it are long), so every span of the merged file
//! still says which file and line it came from ([`Sources::locate`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_spanned::Spanned;

use super::spec::{ModelSpec, SpannedStr};
use crate::error::{Diagnostic, ModelError};
use crate::units;

/// One file of a model.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its path.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Where its byte 0 is in the merged address space.
    pub offset: usize,
}

/// The files of a model, the including one first.
#[derive(Debug, Clone)]
pub struct Sources(pub Vec<Source>);

impl Sources {
    /// The file and line (1-based) of a byte offset of the merged address space.
    pub fn locate(&self, offset: usize) -> (&Path, usize) {
        let source = self
            .0
            .iter()
            .rev()
            .find(|s| s.offset <= offset)
            .unwrap_or(&self.0[0]);
        let local = (offset - source.offset).min(source.text.len());
        let line = source.text.as_bytes()[..local]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        (&source.path, line)
    }

    /// `line N` when `offset` is in the same file as `near`, else `FILE:N`.
    pub fn place(&self, offset: usize, near: usize) -> String {
        let (file, line) = self.locate(offset);
        if file == self.locate(near).0 {
            format!("line {line}")
        } else {
            format!("{}:{line}", file.display())
        }
    }

    /// The end of the address space (where the next file starts).
    fn end(&self) -> usize {
        self.0.last().map_or(0, |s| s.offset + s.text.len() + 1)
    }
}

/// Parses `text` (the file `path`) and every file it includes, merged into one [`ModelSpec`].
pub fn resolve(text: &str, path: &Path) -> Result<(ModelSpec, Sources), ModelError> {
    let mut sources = Sources(vec![Source {
        path: path.to_path_buf(),
        text: text.to_string(),
        offset: 0,
    }]);
    let mut errors = Vec::new();
    let mut stack = vec![canonical(path)];
    let spec = parse_file(&mut sources, 0, &mut stack, &mut errors);
    match spec {
        Some(spec) if errors.is_empty() => Ok((spec, sources)),
        _ => {
            errors.sort_by(|a: &Diagnostic, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            Err(ModelError {
                diagnostics: errors,
            })
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn diagnostic(sources: &Sources, offset: usize, item: &str, message: String) -> Diagnostic {
    let (file, line) = sources.locate(offset);
    Diagnostic {
        file: file.to_path_buf(),
        line,
        kind: "include",
        item: item.to_string(),
        message,
    }
}

/// Parses source `index` and merges its includes into it (None if it is not valid TOML).
fn parse_file(
    sources: &mut Sources,
    index: usize,
    stack: &mut Vec<PathBuf>,
    errors: &mut Vec<Diagnostic>,
) -> Option<ModelSpec> {
    let source = &sources.0[index];
    let padded = format!("{}{}", " ".repeat(source.offset), source.text);
    let mut spec: ModelSpec = match toml::from_str(&padded) {
        Ok(spec) => spec,
        Err(e) => {
            let offset = e.span().map_or(source.offset, |s| s.start);
            let (file, line) = sources.locate(offset);
            errors.push(Diagnostic {
                file: file.to_path_buf(),
                line,
                kind: "toml",
                item: String::new(),
                message: e.message().trim().to_string(),
            });
            return None;
        }
    };
    let dir = sources.0[index]
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for include in std::mem::take(&mut spec.include) {
        let file_span = include.file.span();
        let file = dir.join(include.file.get_ref());
        let here = |sources: &Sources, message: String| {
            diagnostic(sources, file_span.start, include.file.get_ref(), message)
        };
        let key = canonical(&file);
        if stack.contains(&key) {
            errors.push(here(
                sources,
                format!("{} includes itself (a cycle of includes)", file.display()),
            ));
            continue;
        }
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                errors.push(here(
                    sources,
                    format!("cannot read {}: {e}", file.display()),
                ));
                continue;
            }
        };
        if crate::sbml::is_sbml(&file, &text) {
            errors.push(here(
                sources,
                format!(
                    "{} is SBML; only model files in the TOML format can be included",
                    file.display()
                ),
            ));
            continue;
        }
        let offset = sources.end();
        sources.0.push(Source {
            path: file.clone(),
            text,
            offset,
        });
        let child_index = sources.0.len() - 1;
        stack.push(key);
        let child = parse_file(sources, child_index, stack, errors);
        stack.pop();
        let Some(mut child) = child else { continue };
        // A file with one compartment need not name it on its species; in the merged model
        // there are several, so say it.
        if let [only] = child.compartments.as_slice() {
            let name = only.name.get_ref().clone();
            for s in child.species.iter_mut().filter(|s| s.compartment.is_none()) {
                s.compartment = Some(Spanned::new(s.name.span(), name.clone()));
            }
        }
        let map = NameMap::new(&include, &child, sources, errors);
        map.apply(&mut child);
        merge(&mut spec, child, &map, sources, errors);
    }
    Some(spec)
}

/// How the names of an included file change.
struct NameMap {
    prefix: String,
    /// Explicit new names (`rename`, and `connect` as identity).
    explicit: HashMap<String, String>,
}

impl NameMap {
    fn new(
        include: &super::spec::IncludeSpec,
        child: &ModelSpec,
        sources: &Sources,
        errors: &mut Vec<Diagnostic>,
    ) -> NameMap {
        let declared = declarations(child);
        let mut explicit = HashMap::new();
        let renames = include
            .rename
            .iter()
            .map(|(k, v)| (k, v.get_ref().clone(), v.span()));
        let connects = include
            .connect
            .iter()
            .map(|k| (k, k.get_ref().clone(), k.span()));
        for (old, new, new_span) in renames.chain(connects) {
            if !declared.iter().any(|(n, _, _)| n == old.get_ref()) {
                let hint = super::load::did_you_mean(
                    old.get_ref(),
                    declared.iter().map(|(n, _, _)| n.as_str()),
                );
                errors.push(diagnostic(
                    sources,
                    old.span().start,
                    old.get_ref(),
                    format!("is not declared in {}{hint}", include.file.get_ref()),
                ));
            } else if !super::equation::is_identifier(&new) {
                errors.push(diagnostic(
                    sources,
                    new_span.start,
                    &new,
                    "is not a valid name".into(),
                ));
            } else if explicit.insert(old.get_ref().clone(), new).is_some() {
                errors.push(diagnostic(
                    sources,
                    old.span().start,
                    old.get_ref(),
                    "is renamed or connected twice".into(),
                ));
            }
        }
        let prefix = include
            .prefix
            .as_ref()
            .map(|p| p.get_ref().clone())
            .unwrap_or_default();
        if let Some(p) = &include.prefix {
            if !p.get_ref().is_empty() && !super::equation::is_identifier(p.get_ref()) {
                errors.push(diagnostic(
                    sources,
                    p.span().start,
                    p.get_ref(),
                    "prefix must make names valid (letters, digits and _, not starting with a digit)"
                        .into(),
                ));
            }
        }
        NameMap { prefix, explicit }
    }

    fn name(&self, old: &str) -> String {
        match self.explicit.get(old) {
            Some(new) => new.clone(),
            None => format!("{}{old}", self.prefix),
        }
    }

    /// True when `new` is a name given by `rename`/`connect` (a possible connection).
    fn is_connection(&self, new: &str) -> bool {
        self.explicit.values().any(|v| v == new)
    }

    fn rename(&self, s: &mut SpannedStr) {
        let new = self.name(s.get_ref());
        *s = Spanned::new(s.span(), new);
    }

    /// Renames every identifier of an expression or equation that the included file declares.
    fn rename_in_text(&self, s: &mut SpannedStr, declared: &[&str]) {
        let new = rename_identifiers(s.get_ref(), &|n| {
            declared.contains(&n).then(|| self.name(n))
        });
        *s = Spanned::new(s.span(), new);
    }

    /// Renames the names in every item and every reference of `spec`.
    fn apply(&self, spec: &mut ModelSpec) {
        // Expressions and equations name parameters, species and observables.
        let declared_owned: Vec<String> = declarations(spec)
            .into_iter()
            .filter(|(_, k, _)| k.namespace() == Kind::Parameter.namespace())
            .map(|(n, _, _)| n)
            .collect();
        let declared: Vec<&str> = declared_owned.iter().map(String::as_str).collect();
        let amount_text = |loader: &Self, a: &mut Spanned<super::spec::Amount>| {
            if let super::spec::Amount::Text(t) = a.get_ref() {
                // A quantity ("247 /uM/s") has no names; anything else is an expression.
                if units::parse_quantity(t).is_err() {
                    let new =
                        rename_identifiers(t, &|n| declared.contains(&n).then(|| loader.name(n)));
                    *a = Spanned::new(a.span(), super::spec::Amount::Text(new));
                }
            }
        };
        for c in &mut spec.compartments {
            self.rename(&mut c.name);
        }
        for p in &mut spec.parameters {
            self.rename(&mut p.name);
            if let Some(e) = &mut p.expr {
                self.rename_in_text(e, &declared);
            }
        }
        for s in &mut spec.species {
            self.rename(&mut s.name);
            if let Some(c) = &mut s.compartment {
                self.rename(c);
            }
        }
        for r in &mut spec.reactions {
            self.rename(&mut r.name);
            self.rename_in_text(&mut r.equation, &declared);
            if let Some(rate) = &mut r.rate {
                amount_text(self, rate);
            }
            if let Some(rate) = &mut r.reverse {
                amount_text(self, rate);
            }
            if let Some(p) = &mut r.propensity {
                self.rename_in_text(p, &declared);
            }
            if let Some(c) = &mut r.compartment {
                self.rename(c);
            }
        }
        for o in &mut spec.observables {
            self.rename(&mut o.name);
            self.rename_in_text(&mut o.expr, &declared);
        }
        for p in &mut spec.protocols {
            self.rename(&mut p.name);
            let actions = p
                .trains
                .iter_mut()
                .flat_map(|t| t.on.iter_mut().chain(t.off.iter_mut()))
                .chain(p.events.iter_mut().flat_map(|e| e.actions.iter_mut()));
            for a in actions {
                for target in [
                    &mut a.set,
                    &mut a.add,
                    &mut a.remove,
                    &mut a.scale,
                    &mut a.binomial,
                    &mut a.into,
                ]
                .into_iter()
                .flatten()
                {
                    self.rename(target);
                }
            }
            for d in p.trains.iter_mut().flat_map(|t| t.drives.iter_mut()) {
                self.rename(&mut d.parameter);
            }
        }
        for o in &mut spec.outcomes {
            self.rename(&mut o.name);
            self.rename(&mut o.observable);
        }
        if let Some(record) = &mut spec.model.record {
            for r in record {
                self.rename(r);
            }
        }
        let variants = std::mem::take(&mut spec.variants);
        for (mut name, mut v) in variants {
            self.rename(&mut name);
            v.set = std::mem::take(&mut v.set)
                .into_iter()
                .map(|(mut k, val)| {
                    self.rename(&mut k);
                    (k, val)
                })
                .collect();
            spec.variants.insert(name, v);
        }
    }
}

/// The kinds of items that share a namespace (parameters, species and observables share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Compartment,
    Parameter,
    Species,
    Observable,
    Reaction,
    Protocol,
    Outcome,
    Variant,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Compartment => "compartment",
            Kind::Parameter => "parameter",
            Kind::Species => "species",
            Kind::Observable => "observable",
            Kind::Reaction => "reaction",
            Kind::Protocol => "protocol",
            Kind::Outcome => "outcome",
            Kind::Variant => "variant",
        }
    }

    /// Which namespace the kind lives in.
    fn namespace(self) -> u8 {
        match self {
            Kind::Compartment => 0,
            Kind::Parameter | Kind::Species | Kind::Observable => 1,
            Kind::Reaction => 2,
            Kind::Protocol => 3,
            Kind::Outcome => 4,
            Kind::Variant => 5,
        }
    }
}

/// Every declared name with its kind and span.
fn declarations(spec: &ModelSpec) -> Vec<(String, Kind, usize)> {
    let d = |n: &SpannedStr, k: Kind| (n.get_ref().clone(), k, n.span().start);
    let mut out = Vec::new();
    out.extend(
        spec.compartments
            .iter()
            .map(|c| d(&c.name, Kind::Compartment)),
    );
    out.extend(spec.parameters.iter().map(|p| d(&p.name, Kind::Parameter)));
    out.extend(spec.species.iter().map(|s| d(&s.name, Kind::Species)));
    out.extend(
        spec.observables
            .iter()
            .map(|o| d(&o.name, Kind::Observable)),
    );
    out.extend(spec.reactions.iter().map(|r| d(&r.name, Kind::Reaction)));
    out.extend(spec.protocols.iter().map(|p| d(&p.name, Kind::Protocol)));
    out.extend(spec.outcomes.iter().map(|o| d(&o.name, Kind::Outcome)));
    out.extend(spec.variants.keys().map(|v| d(v, Kind::Variant)));
    out
}

/// Adds the (renamed) included items to `spec`, dropping connected ones and reporting clashes.
fn merge(
    spec: &mut ModelSpec,
    child: ModelSpec,
    map: &NameMap,
    sources: &Sources,
    errors: &mut Vec<Diagnostic>,
) {
    let existing = declarations(spec);
    // Which included items to keep: (kind, name) → keep.
    let mut dropped: Vec<(Kind, String)> = Vec::new();
    for (name, kind, at) in declarations(&child) {
        let Some((_, first_kind, first_at)) = existing
            .iter()
            .find(|(n, k, _)| *n == name && k.namespace() == kind.namespace())
        else {
            continue;
        };
        let (file, line) = sources.locate(*first_at);
        let here = format!("{}:{line}", file.display());
        let (child_file, child_line) = sources.locate(at);
        let there = format!("{}:{child_line}", child_file.display());
        if map.is_connection(&name) && *first_kind == kind {
            dropped.push((kind, name));
        } else if map.is_connection(&name) {
            errors.push(diagnostic(
                sources,
                at,
                &name,
                format!(
                    "connects a {} of {there} to a {} of {here}; only items of the same kind connect",
                    kind.word(),
                    first_kind.word()
                ),
            ));
        } else {
            errors.push(diagnostic(
                sources,
                at,
                &name,
                format!(
                    "{} '{name}' of {there} clashes with the {} '{name}' declared at {here}; give the include a `prefix` or `rename` it, or `connect` it if both mean the same",
                    kind.word(),
                    first_kind.word()
                ),
            ));
        }
    }
    let keep = |kind: Kind, name: &SpannedStr| !dropped.contains(&(kind, name.get_ref().clone()));
    let ModelSpec {
        model: _,
        include: _,
        compartments,
        parameters,
        species,
        reactions,
        observables,
        protocols,
        outcomes,
        variants,
    } = child;
    spec.compartments.extend(
        compartments
            .into_iter()
            .filter(|c| keep(Kind::Compartment, &c.name)),
    );
    spec.parameters.extend(
        parameters
            .into_iter()
            .filter(|p| keep(Kind::Parameter, &p.name)),
    );
    spec.species
        .extend(species.into_iter().filter(|s| keep(Kind::Species, &s.name)));
    spec.reactions.extend(
        reactions
            .into_iter()
            .filter(|r| keep(Kind::Reaction, &r.name)),
    );
    spec.observables.extend(
        observables
            .into_iter()
            .filter(|o| keep(Kind::Observable, &o.name)),
    );
    spec.protocols.extend(
        protocols
            .into_iter()
            .filter(|p| keep(Kind::Protocol, &p.name)),
    );
    spec.outcomes.extend(
        outcomes
            .into_iter()
            .filter(|o| keep(Kind::Outcome, &o.name)),
    );
    let kept: BTreeMap<_, _> = variants
        .into_iter()
        .filter(|(n, _)| keep(Kind::Variant, n))
        .collect();
    spec.variants.extend(kept);
}

/// `text` with every identifier `n` for which `new(n)` is `Some` replaced; numbers (with their
/// exponents) and bracketed units (`0.062[1/mV]`) are left alone.
pub fn rename_identifiers(text: &str, new: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let taken = if c == '[' {
            rest.find(']').map_or(rest.len(), |i| i + 1)
        } else if c.is_ascii_digit() || c == '.' {
            let mut end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let after = &rest[end..];
            if after.starts_with(['e', 'E']) {
                let sign = usize::from(after[1..].starts_with(['+', '-']));
                let digits = after[1 + sign..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len() - 1 - sign);
                if digits > 0 {
                    end += 1 + sign + digits;
                }
            }
            end
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            match new(&rest[..end]) {
                Some(n) => {
                    out.push_str(&n);
                    rest = &rest[end..];
                    continue;
                }
                None => end,
            }
        } else {
            c.len_utf8()
        };
        out.push_str(&rest[..taken]);
        rest = &rest[taken..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_renamed_but_not_numbers_or_units() {
        let map = |n: &str| (n == "G" || n == "e" || n == "A").then(|| format!("pre_{n}"));
        assert_eq!(
            rename_identifiers("kon * G + 1e-3 * exp(0.062[1/mV] * V) + e", &map),
            "kon * pre_G + 1e-3 * exp(0.062[1/mV] * V) + pre_e"
        );
        assert_eq!(
            rename_identifiers("2 A + B <-> A2", &map),
            "2 pre_A + B <-> A2"
        );
        assert_eq!(rename_identifiers("2.5e+2*A", &map), "2.5e+2*pre_A");
    }
}

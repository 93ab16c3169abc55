//! XML → SBML document structs, each element with its line for messages.
//!
//! Every element of SBML core that changes a model's meaning is read or refused here: an
//! element this reader does not interpret, an element or required attribute of a package, and
//! SBML levels other than L2V4, L3V1 and L3V2 stop with a located error. `notes`,
//! `annotation`, unit definitions and (L2) compartment and species types do not change the
//! stochastic interpretation and are skipped.

use std::collections::HashMap;
use std::path::Path;

use roxmltree::{Document, Node};

use super::math::{parse_lambda, parse_math, Lambda, Math, MathError, MATHML_NS};
use crate::error::Diagnostic;

/// An SBML model as written, with ids and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlModel {
    /// SBML level.
    pub level: u32,
    /// SBML version.
    pub version: u32,
    /// `model id`.
    pub id: String,
    /// `model name`.
    pub name: String,
    /// Function definitions (already inlined in every expression; kept for listing).
    pub functions: Vec<String>,
    /// Compartments.
    pub compartments: Vec<SbmlCompartment>,
    /// Species.
    pub species: Vec<SbmlSpecies>,
    /// Global parameters.
    pub parameters: Vec<SbmlParameter>,
    /// Initial assignments.
    pub initial_assignments: Vec<InitialAssignment>,
    /// Assignment rules (rate and algebraic rules are refused while reading).
    pub rules: Vec<AssignmentRule>,
    /// Reactions.
    pub reactions: Vec<SbmlReaction>,
    /// Events.
    pub events: Vec<SbmlEvent>,
}

/// A compartment.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlCompartment {
    /// Id.
    pub id: String,
    /// `size` (or L2 `volume`), if given.
    pub size: Option<f64>,
    /// `constant`.
    pub constant: bool,
    /// Line.
    pub line: usize,
}

/// A species.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlSpecies {
    /// Id.
    pub id: String,
    /// Compartment id.
    pub compartment: String,
    /// `initialAmount`.
    pub initial_amount: Option<f64>,
    /// `initialConcentration`.
    pub initial_concentration: Option<f64>,
    /// `hasOnlySubstanceUnits`: the symbol means the amount (else the concentration).
    pub only_substance_units: bool,
    /// `boundaryCondition`: reactions do not change it.
    pub boundary: bool,
    /// `constant`: nothing changes it.
    pub constant: bool,
    /// Line.
    pub line: usize,
}

/// A global parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlParameter {
    /// Id.
    pub id: String,
    /// `value`, if given.
    pub value: Option<f64>,
    /// `constant`.
    pub constant: bool,
    /// Line.
    pub line: usize,
}

/// `initialAssignment symbol = math`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialAssignment {
    /// The symbol assigned.
    pub symbol: String,
    /// The value.
    pub math: Math,
    /// Line.
    pub line: usize,
}

/// `assignmentRule variable = math`, true at all times.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRule {
    /// The variable.
    pub variable: String,
    /// Its value.
    pub math: Math,
    /// Line.
    pub line: usize,
}

/// A species reference in a reaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeciesRef {
    /// Species id.
    pub species: String,
    /// Its own id (L3), which assignments could target.
    pub id: Option<String>,
    /// Stoichiometry, if given.
    pub stoichiometry: Option<f64>,
    /// Line.
    pub line: usize,
}

/// A reaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlReaction {
    /// Id.
    pub id: String,
    /// Reactants.
    pub reactants: Vec<SpeciesRef>,
    /// Products.
    pub products: Vec<SpeciesRef>,
    /// The kinetic law: math, local parameters (id, value), line.
    pub law: Option<KineticLaw>,
    /// Line.
    pub line: usize,
}

/// A kinetic law.
#[derive(Debug, Clone, PartialEq)]
pub struct KineticLaw {
    /// The propensity.
    pub math: Math,
    /// Local parameters (id, value), hiding globals of the same id.
    pub locals: Vec<(String, f64)>,
    /// Line.
    pub line: usize,
}

/// An event.
#[derive(Debug, Clone, PartialEq)]
pub struct SbmlEvent {
    /// Id (may be empty in L2/L3 where it is optional).
    pub id: String,
    /// The trigger condition.
    pub trigger: Math,
    /// Trigger `initialValue` (L2: true, events cannot fire at t = 0).
    pub initial_value: bool,
    /// Trigger `persistent` (L2: true).
    pub persistent: bool,
    /// Delay, if any.
    pub delay: Option<Math>,
    /// Priority, if any.
    pub priority: Option<Math>,
    /// `useValuesFromTriggerTime` (default true).
    pub use_values_from_trigger_time: bool,
    /// (variable, value, line).
    pub assignments: Vec<(String, Math, usize)>,
    /// Line.
    pub line: usize,
}

/// Reads state from the parsed XML.
struct Reader<'a> {
    path: &'a Path,
    doc: &'a Document<'a>,
    core_ns: String,
    functions: HashMap<String, Lambda>,
}

/// A located error: (line, element kind, id, message).
type Located = Box<Diagnostic>;

impl<'a> Reader<'a> {
    fn line(&self, node: Node) -> usize {
        self.doc.text_pos_at(node.range().start).row as usize
    }

    fn error(&self, node: Node, message: impl Into<String>) -> Located {
        Box::new(Diagnostic {
            file: self.path.to_path_buf(),
            line: self.line(node),
            kind: kind_of(node.tag_name().name()),
            item: node.attribute("id").unwrap_or("").to_string(),
            message: message.into(),
        })
    }

    fn math_error(&self, node: Node, e: MathError) -> Located {
        let mut d = self.error(node, e.message);
        d.line = e.line;
        d
    }

    fn children<'n>(
        &self,
        node: Node<'n, 'a>,
    ) -> impl Iterator<Item = Node<'n, 'a>> + use<'n, 'a, '_> {
        node.children().filter(|c| c.is_element()).filter(|c| {
            !matches!(c.tag_name().name(), "notes" | "annotation")
                || c.tag_name().namespace() != Some(self.core_ns.as_str())
        })
    }

    /// Refuses an element from another namespace (a package).
    fn check_core(&self, node: Node) -> Result<(), Located> {
        match node.tag_name().namespace() {
            Some(ns) if ns == self.core_ns => Ok(()),
            ns => Err(self.error(
                node,
                format!(
                    "element <{}> of namespace {} (an SBML package) is not supported",
                    node.tag_name().name(),
                    ns.unwrap_or("(none)")
                ),
            )),
        }
    }

    fn attr_f64(&self, node: Node, name: &str) -> Result<Option<f64>, Located> {
        node.attribute(name)
            .map(|v| {
                v.trim().parse::<f64>().map_err(|_| {
                    self.error(node, format!("attribute {name}=\"{v}\" is not a number"))
                })
            })
            .transpose()
    }

    fn attr_bool(&self, node: Node, name: &str, default: bool) -> Result<bool, Located> {
        match node.attribute(name).map(str::trim) {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(v) => Err(self.error(node, format!("attribute {name}=\"{v}\" is not a boolean"))),
        }
    }

    fn attr_required<'n>(&self, node: Node<'n, '_>, name: &str) -> Result<&'n str, Located> {
        node.attribute(name)
            .ok_or_else(|| self.error(node, format!("missing attribute '{name}'")))
    }

    /// The expression of the `<math>` child of `node`.
    fn math_of(&self, node: Node) -> Result<Math, Located> {
        let math = self
            .children(node)
            .find(|c| c.tag_name().name() == "math")
            .ok_or_else(|| self.error(node, "missing <math>"))?;
        if math.tag_name().namespace() != Some(MATHML_NS) {
            return Err(self.error(math, "<math> must be in the MathML namespace"));
        }
        parse_math(math, &self.functions).map_err(|e| self.math_error(node, e))
    }

    fn model(&mut self, sbml: Node, level: u32, version: u32) -> Result<SbmlModel, Located> {
        let model = self
            .children(sbml)
            .find(|c| c.tag_name().name() == "model")
            .ok_or_else(|| self.error(sbml, "no <model> element"))?;
        let mut out = SbmlModel {
            level,
            version,
            id: model.attribute("id").unwrap_or("").to_string(),
            name: model.attribute("name").unwrap_or("").to_string(),
            functions: Vec::new(),
            compartments: Vec::new(),
            species: Vec::new(),
            parameters: Vec::new(),
            initial_assignments: Vec::new(),
            rules: Vec::new(),
            reactions: Vec::new(),
            events: Vec::new(),
        };
        if let Some(attr) = model.attribute("conversionFactor") {
            return Err(self.error(
                model,
                format!("conversionFactor=\"{attr}\" is not supported"),
            ));
        }
        let lists: Vec<Node> = self.children(model).collect();
        for list in lists {
            self.check_core(list)?;
            let tag = list.tag_name().name();
            let items: Vec<Node> = self.children(list).collect();
            for item in &items {
                self.check_core(*item)?;
            }
            match tag {
                "listOfFunctionDefinitions" => {
                    for f in items {
                        let id = self.attr_required(f, "id")?.to_string();
                        let math = self
                            .children(f)
                            .find(|c| c.tag_name().name() == "math")
                            .ok_or_else(|| self.error(f, "missing <math>"))?;
                        let lambda = parse_lambda(math, &self.functions)
                            .map_err(|e| self.math_error(f, e))?;
                        self.functions.insert(id.clone(), lambda);
                        out.functions.push(id);
                    }
                }
                "listOfUnitDefinitions" | "listOfCompartmentTypes" | "listOfSpeciesTypes" => {}
                "listOfCompartments" => {
                    for c in items {
                        out.compartments.push(SbmlCompartment {
                            id: self.attr_required(c, "id")?.to_string(),
                            size: match self.attr_f64(c, "size")? {
                                Some(s) => Some(s),
                                None => self.attr_f64(c, "volume")?,
                            },
                            constant: self.attr_bool(c, "constant", true)?,
                            line: self.line(c),
                        });
                    }
                }
                "listOfSpecies" => {
                    for s in items {
                        if let Some(f) = s.attribute("conversionFactor") {
                            return Err(
                                self.error(s, format!("conversionFactor=\"{f}\" is not supported"))
                            );
                        }
                        out.species.push(SbmlSpecies {
                            id: self.attr_required(s, "id")?.to_string(),
                            compartment: self.attr_required(s, "compartment")?.to_string(),
                            initial_amount: self.attr_f64(s, "initialAmount")?,
                            initial_concentration: self.attr_f64(s, "initialConcentration")?,
                            only_substance_units: self.attr_bool(
                                s,
                                "hasOnlySubstanceUnits",
                                false,
                            )?,
                            boundary: self.attr_bool(s, "boundaryCondition", false)?,
                            constant: self.attr_bool(s, "constant", false)?,
                            line: self.line(s),
                        });
                    }
                }
                "listOfParameters" => {
                    for p in items {
                        out.parameters.push(SbmlParameter {
                            id: self.attr_required(p, "id")?.to_string(),
                            value: self.attr_f64(p, "value")?,
                            constant: self.attr_bool(p, "constant", true)?,
                            line: self.line(p),
                        });
                    }
                }
                "listOfInitialAssignments" => {
                    for a in items {
                        out.initial_assignments.push(InitialAssignment {
                            symbol: self.attr_required(a, "symbol")?.to_string(),
                            math: self.math_of(a)?,
                            line: self.line(a),
                        });
                    }
                }
                "listOfRules" => {
                    for r in items {
                        match r.tag_name().name() {
                            "assignmentRule" => out.rules.push(AssignmentRule {
                                variable: self.attr_required(r, "variable")?.to_string(),
                                math: self.math_of(r)?,
                                line: self.line(r),
                            }),
                            "rateRule" => {
                                return Err(self.error(
                                    r,
                                    format!(
                                        "rate rules are not supported (rateRule for '{}')",
                                        r.attribute("variable").unwrap_or("?")
                                    ),
                                ))
                            }
                            "algebraicRule" => {
                                return Err(self.error(r, "algebraic rules are not supported"))
                            }
                            other => return Err(self.error(r, format!("unknown rule <{other}>"))),
                        }
                    }
                }
                "listOfReactions" => {
                    for r in items {
                        out.reactions.push(self.reaction(r)?);
                    }
                }
                "listOfEvents" => {
                    for e in items {
                        out.events.push(self.event(e)?);
                    }
                }
                "listOfConstraints" => {
                    return Err(self.error(list, "constraints are not supported"));
                }
                other => {
                    return Err(self.error(list, format!("element <{other}> is not supported")))
                }
            }
        }
        Ok(out)
    }

    fn species_refs(&self, list: Node) -> Result<Vec<SpeciesRef>, Located> {
        let mut refs = Vec::new();
        for r in self.children(list) {
            self.check_core(r)?;
            if let Some(m) = self
                .children(r)
                .find(|c| c.tag_name().name() == "stoichiometryMath")
            {
                return Err(self.error(m, "stoichiometryMath is not supported"));
            }
            refs.push(SpeciesRef {
                species: self.attr_required(r, "species")?.to_string(),
                id: r.attribute("id").map(str::to_string),
                stoichiometry: self.attr_f64(r, "stoichiometry")?,
                line: self.line(r),
            });
        }
        Ok(refs)
    }

    fn reaction(&self, r: Node) -> Result<SbmlReaction, Located> {
        let id = self.attr_required(r, "id")?.to_string();
        if self.attr_bool(r, "fast", false)? {
            return Err(self.error(r, "fast reactions are not supported"));
        }
        let mut out = SbmlReaction {
            id,
            reactants: Vec::new(),
            products: Vec::new(),
            law: None,
            line: self.line(r),
        };
        for child in self.children(r) {
            self.check_core(child)?;
            match child.tag_name().name() {
                "listOfReactants" => out.reactants = self.species_refs(child)?,
                "listOfProducts" => out.products = self.species_refs(child)?,
                "listOfModifiers" => {}
                "kineticLaw" => {
                    let mut locals = Vec::new();
                    for list in self.children(child) {
                        match list.tag_name().name() {
                            "math" => {}
                            "listOfLocalParameters" | "listOfParameters" => {
                                for p in self.children(list) {
                                    self.check_core(p)?;
                                    let pid = self.attr_required(p, "id")?.to_string();
                                    let value = self.attr_f64(p, "value")?.ok_or_else(|| {
                                        self.error(
                                            p,
                                            format!("local parameter '{pid}' has no value"),
                                        )
                                    })?;
                                    locals.push((pid, value));
                                }
                            }
                            other => {
                                return Err(
                                    self.error(list, format!("element <{other}> is not supported"))
                                )
                            }
                        }
                    }
                    out.law = Some(KineticLaw {
                        math: self.math_of(child)?,
                        locals,
                        line: self.line(child),
                    });
                }
                other => {
                    return Err(self.error(child, format!("element <{other}> is not supported")))
                }
            }
        }
        Ok(out)
    }

    fn event(&self, e: Node) -> Result<SbmlEvent, Located> {
        let mut out = SbmlEvent {
            id: e.attribute("id").unwrap_or("").to_string(),
            trigger: Math::Num(0.0),
            initial_value: true,
            persistent: true,
            delay: None,
            priority: None,
            use_values_from_trigger_time: self.attr_bool(e, "useValuesFromTriggerTime", true)?,
            assignments: Vec::new(),
            line: self.line(e),
        };
        let mut has_trigger = false;
        for child in self.children(e) {
            self.check_core(child)?;
            match child.tag_name().name() {
                "trigger" => {
                    out.trigger = self.math_of(child)?;
                    out.initial_value = self.attr_bool(child, "initialValue", true)?;
                    out.persistent = self.attr_bool(child, "persistent", true)?;
                    has_trigger = true;
                }
                "delay" => out.delay = Some(self.math_of(child)?),
                "priority" => out.priority = Some(self.math_of(child)?),
                "listOfEventAssignments" => {
                    for a in self.children(child) {
                        self.check_core(a)?;
                        out.assignments.push((
                            self.attr_required(a, "variable")?.to_string(),
                            self.math_of(a)?,
                            self.line(a),
                        ));
                    }
                }
                other => {
                    return Err(self.error(child, format!("element <{other}> is not supported")))
                }
            }
        }
        if !has_trigger {
            return Err(self.error(e, "event without a trigger"));
        }
        Ok(out)
    }
}

fn kind_of(tag: &str) -> &'static str {
    match tag {
        "sbml" => "sbml",
        "model" => "model",
        "compartment" => "compartment",
        "species" => "species",
        "parameter" | "localParameter" => "parameter",
        "reaction" => "reaction",
        "kineticLaw" => "kinetic law",
        "event" => "event",
        "trigger" => "trigger",
        "delay" => "delay",
        "priority" => "priority",
        "eventAssignment" => "event assignment",
        "assignmentRule" => "assignment rule",
        "rateRule" => "rate rule",
        "algebraicRule" => "algebraic rule",
        "initialAssignment" => "initial assignment",
        "functionDefinition" => "function definition",
        "speciesReference" => "species reference",
        "stoichiometryMath" => "stoichiometryMath",
        "listOfConstraints" => "constraints",
        _ => "element",
    }
}

/// The core namespaces of the supported levels and versions.
const CORE: [(u32, u32, &str); 3] = [
    (2, 4, "http://www.sbml.org/sbml/level2/version4"),
    (3, 1, "http://www.sbml.org/sbml/level3/version1/core"),
    (3, 2, "http://www.sbml.org/sbml/level3/version2/core"),
];

/// Parses SBML text (L2V4, L3V1 or L3V2) into an [`SbmlModel`].
pub fn read_sbml(text: &str, path: &Path) -> Result<SbmlModel, Box<Diagnostic>> {
    let located = |line: usize, message: String| {
        Box::new(Diagnostic {
            file: path.to_path_buf(),
            line,
            kind: "sbml",
            item: String::new(),
            message,
        })
    };
    let doc = Document::parse(text)
        .map_err(|e| located(e.pos().row as usize, format!("not well-formed XML: {e}")))?;
    let sbml = doc.root_element();
    let line = doc.text_pos_at(sbml.range().start).row as usize;
    if sbml.tag_name().name() != "sbml" {
        return Err(located(
            line,
            format!("root element is <{}>, not <sbml>", sbml.tag_name().name()),
        ));
    }
    let number = |name: &str| {
        sbml.attribute(name)
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let (level, version) = (number("level").unwrap_or(0), number("version").unwrap_or(0));
    let core_ns = CORE
        .iter()
        .find(|&&(l, v, _)| (l, v) == (level, version))
        .map(|&(_, _, ns)| ns)
        .ok_or_else(|| {
            located(
                line,
                format!("SBML level {level} version {version} is not supported (supported: L2V4, L3V1, L3V2)"),
            )
        })?;
    if sbml.tag_name().namespace() != Some(core_ns) {
        return Err(located(
            line,
            format!("<sbml> is not in the namespace {core_ns} of level {level} version {version}"),
        ));
    }
    for attr in sbml.attributes() {
        if attr.name() == "required" && attr.namespace().is_some_and(|ns| ns != core_ns) {
            let prefix = sbml
                .namespaces()
                .find(|n| Some(n.uri()) == attr.namespace())
                .and_then(|n| n.name())
                .unwrap_or("?");
            return Err(located(
                line,
                format!(
                    "SBML package '{prefix}' ({}) is not supported",
                    attr.namespace().unwrap_or("")
                ),
            ));
        }
    }
    let mut reader = Reader {
        path,
        doc: &doc,
        core_ns: core_ns.to_string(),
        functions: HashMap::new(),
    };
    reader.model(sbml, level, version)
}

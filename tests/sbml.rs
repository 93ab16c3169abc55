//! SBML import: the MathML evaluator, name resolution, events, the three SBML versions of the
//! DSMTS cases, and a located error for every unsupported construct.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use spinesim::model::{Action, Model, Quantity};
use spinesim::network::Network;
use spinesim::sbml::math::{parse_math, Math, MATHML_NS};
use spinesim::sbml::parse_sbml;

/// Evaluates a MathML fragment with the given names at time `t`.
fn eval(fragment: &str, names: &[(&str, f64)], t: f64) -> f64 {
    let xml = format!(r#"<math xmlns="{MATHML_NS}">{fragment}</math>"#);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let math = parse_math(doc.root_element(), &HashMap::new()).unwrap();
    let names: HashMap<&str, f64> = names.iter().copied().collect();
    math.eval(&|n| names.get(n).copied(), t).unwrap()
}

fn apply(op: &str, args: &[&str]) -> String {
    format!("<apply><{op}/>{}</apply>", args.concat())
}

fn cn(x: f64) -> String {
    format!("<cn>{x}</cn>")
}

const TIME: &str =
    r#"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>"#;

#[test]
fn mathml_operators_and_functions() {
    let e = |f: &str| eval(f, &[("x", 3.0), ("y", 2.0)], 0.0);
    let (x, y) = ("<ci> x </ci>", "<ci>y</ci>");
    assert_eq!(e(&apply("plus", &[x, y, &cn(1.0)])), 6.0);
    assert_eq!(e(&apply("plus", &[])), 0.0);
    assert_eq!(e(&apply("times", &[])), 1.0);
    assert_eq!(e(&apply("minus", &[x])), -3.0);
    assert_eq!(e(&apply("minus", &[x, y])), 1.0);
    assert_eq!(e(&apply("times", &[x, y, &cn(0.5)])), 3.0);
    assert_eq!(e(&apply("divide", &[x, y])), 1.5);
    assert_eq!(e(&apply("power", &[x, y])), 9.0);
    assert_eq!(e(&apply("root", &[&cn(16.0)])), 4.0);
    assert!(
        (e(&format!(
            "<apply><root/><degree>{}</degree>{}</apply>",
            cn(3.0),
            cn(27.0)
        )) - 3.0)
            .abs()
            < 1e-12
    );
    assert!((e(&apply("log", &[&cn(1000.0)])) - 3.0).abs() < 1e-12);
    assert!(
        (e(&format!(
            "<apply><log/><logbase>{}</logbase>{}</apply>",
            cn(2.0),
            cn(8.0)
        )) - 3.0)
            .abs()
            < 1e-12
    );
    assert!((e(&apply("ln", &["<exponentiale/>"])) - 1.0).abs() < 1e-15);
    assert!((e(&apply("exp", &[&cn(1.0)])) - std::f64::consts::E).abs() < 1e-15);
    assert_eq!(e(&apply("abs", &[&cn(-2.5)])), 2.5);
    assert_eq!(e(&apply("floor", &[&cn(-2.5)])), -3.0);
    assert_eq!(e(&apply("ceiling", &[&cn(2.1)])), 3.0);
    assert_eq!(e(&apply("factorial", &[&cn(5.0)])), 120.0);
    assert!((e(&apply("sin", &["<pi/>"]))).abs() < 1e-15);
    assert_eq!(e(&apply("min", &[x, y, &cn(7.0)])), 2.0);
    assert_eq!(e(&apply("max", &[x, y, &cn(7.0)])), 7.0);
    assert_eq!(e(&apply("rem", &[&cn(-7.0), y])), -1.0);
    assert_eq!(e(&apply("quotient", &[&cn(-7.0), y])), -3.0);
    assert_eq!(e(r#"<cn type="e-notation"> 1.5 <sep/> 3 </cn>"#), 1500.0);
    assert_eq!(e(r#"<cn type="rational"> 3 <sep/> 4 </cn>"#), 0.75);
    assert_eq!(e(r#"<cn type="integer"> 25 </cn>"#), 25.0);
    assert_eq!(e("<infinity/>"), f64::INFINITY);
}

#[test]
fn mathml_relations_logic_and_piecewise() {
    let e = |f: &str| eval(f, &[("x", 3.0)], 0.0);
    let x = "<ci>x</ci>";
    assert_eq!(e(&apply("gt", &[x, &cn(2.0)])), 1.0);
    assert_eq!(e(&apply("gt", &[x, &cn(3.0)])), 0.0);
    assert_eq!(e(&apply("geq", &[x, &cn(3.0)])), 1.0);
    assert_eq!(e(&apply("lt", &[&cn(1.0), &cn(2.0), x])), 1.0);
    assert_eq!(e(&apply("lt", &[&cn(1.0), &cn(4.0), x])), 0.0);
    assert_eq!(e(&apply("leq", &[x, &cn(3.0)])), 1.0);
    assert_eq!(e(&apply("eq", &[x, &cn(3.0), &cn(3.0)])), 1.0);
    assert_eq!(e(&apply("neq", &[x, &cn(3.0)])), 0.0);
    assert_eq!(e(&apply("and", &["<true/>", "<false/>"])), 0.0);
    assert_eq!(e(&apply("or", &["<true/>", "<false/>"])), 1.0);
    assert_eq!(e(&apply("xor", &["<true/>", "<true/>", "<true/>"])), 1.0);
    assert_eq!(e(&apply("not", &["<false/>"])), 1.0);
    assert_eq!(e(&apply("implies", &["<false/>", "<false/>"])), 1.0);
    let pw = |v: f64| {
        eval(
            &format!(
                "<piecewise><piece>{}{}</piece><piece>{}{}</piece><otherwise>{}</otherwise></piecewise>",
                cn(10.0),
                apply("lt", &[x, &cn(0.0)]),
                cn(20.0),
                apply("lt", &[x, &cn(5.0)]),
                cn(30.0)
            ),
            &[("x", v)],
            0.0,
        )
    };
    assert_eq!((pw(-1.0), pw(1.0), pw(9.0)), (10.0, 20.0, 30.0));
    let no_otherwise = format!(
        "<piecewise><piece>{}{}</piece></piecewise>",
        cn(1.0),
        "<false/>"
    );
    assert!(e(&no_otherwise).is_nan());
}

#[test]
fn mathml_time_csymbol() {
    assert_eq!(eval(TIME, &[], 12.5), 12.5);
    assert_eq!(eval(&apply("geq", &[TIME, &cn(25.0)]), &[], 25.0), 1.0);
    assert_eq!(eval(&apply("geq", &[TIME, &cn(25.0)]), &[], 24.9), 0.0);
    let xml = format!(r#"<math xmlns="{MATHML_NS}">{TIME}</math>"#);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        parse_math(doc.root_element(), &HashMap::new()).unwrap(),
        Math::Time
    );
}

/// An SBML L3V1 document with `body` inside `<model>`.
fn l3(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
  <model id="m">
{body}
  </model>
</sbml>"#
    )
}

fn math(inner: &str) -> String {
    format!(r#"<math xmlns="{MATHML_NS}">{inner}</math>"#)
}

const CELL: &str =
    r#"<listOfCompartments><compartment id="cell" size="2" constant="true"/></listOfCompartments>"#;

fn species(id: &str, amount: f64, only_substance: bool) -> String {
    format!(
        r#"<species id="{id}" compartment="cell" initialAmount="{amount}" hasOnlySubstanceUnits="{only_substance}" boundaryCondition="false" constant="false"/>"#
    )
}

fn reaction(
    id: &str,
    reactants: &[(&str, u32)],
    products: &[(&str, u32)],
    law: &str,
    locals: &str,
) -> String {
    let refs = |list: &[(&str, u32)]| {
        list.iter()
            .map(|(s, n)| {
                format!(r#"<speciesReference species="{s}" stoichiometry="{n}" constant="true"/>"#)
            })
            .collect::<String>()
    };
    format!(
        r#"<reaction id="{id}" reversible="false" fast="false">
  <listOfReactants>{}</listOfReactants><listOfProducts>{}</listOfProducts>
  <kineticLaw>{}{locals}</kineticLaw></reaction>"#,
        refs(reactants),
        refs(products),
        math(law)
    )
}

fn load(text: &str) -> Model {
    parse_sbml(text, Path::new("t.xml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn load_err(text: &str) -> String {
    match parse_sbml(text, Path::new("t.xml")) {
        Ok(_) => panic!("expected an error for\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn propensities(model: &Model) -> Vec<f64> {
    let net = Network::compile(model);
    let state = net.initial_state();
    (0..net.n_channels())
        .map(|r| net.propensity(r, &state))
        .collect()
}

#[test]
fn local_parameters_hide_globals_and_functions_are_inlined() {
    let text = l3(&format!(
        r#"<listOfFunctionDefinitions><functionDefinition id="twice">{}</functionDefinition></listOfFunctionDefinitions>
{CELL}
<listOfSpecies>{}{}</listOfSpecies>
<listOfParameters><parameter id="k" value="2" constant="true"/></listOfParameters>
<listOfReactions>{}{}{}</listOfReactions>"#,
        math("<lambda><bvar><ci>a</ci></bvar><apply><times/><cn>2</cn><ci>a</ci></apply></lambda>"),
        species("A", 10.0, true),
        species("B", 10.0, false),
        reaction(
            "local",
            &[("A", 1)],
            &[],
            &apply("times", &["<ci>k</ci>", "<ci>A</ci>"]),
            r#"<listOfLocalParameters><localParameter id="k" value="3"/></listOfLocalParameters>"#
        ),
        reaction(
            "global",
            &[("A", 1)],
            &[],
            &apply("times", &["<ci>k</ci>", "<ci>A</ci>"]),
            ""
        ),
        // B has hasOnlySubstanceUnits=false: its symbol is the concentration 10 / 2.
        reaction(
            "conc",
            &[("B", 1)],
            &[],
            &apply(
                "times",
                &["<apply><ci>twice</ci><ci>B</ci></apply>", "<ci>cell</ci>"]
            ),
            ""
        ),
    ));
    let model = load(&text);
    assert_eq!(propensities(&model), vec![30.0, 20.0, 2.0 * 5.0 * 2.0]);
}

#[test]
fn stoichiometry_boundary_and_constant_species() {
    let text = l3(&format!(
        r#"{CELL}<listOfSpecies>{}{}
<species id="S" compartment="cell" initialAmount="4" hasOnlySubstanceUnits="true" boundaryCondition="true" constant="false"/>
<species id="C" compartment="cell" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="true"/>
</listOfSpecies><listOfReactions>{}</listOfReactions>"#,
        species("A", 10.0, true),
        species("B", 0.0, true),
        reaction(
            "r",
            &[("A", 2), ("S", 1), ("C", 1)],
            &[("B", 3), ("A", 1)],
            "<cn>1</cn>",
            ""
        ),
    ));
    let model = load(&text);
    assert_eq!(model.reactions[0].net_change(), vec![(0, -1), (1, 3)]);
    assert_eq!(model.record.len(), 4);
}

#[test]
fn initial_assignments_and_assignment_rules() {
    let text = l3(&format!(
        r#"{CELL}<listOfSpecies>{}{}{}</listOfSpecies>
<listOfParameters><parameter id="k" value="1" constant="true"/><parameter id="k2" constant="false"/></listOfParameters>
<listOfInitialAssignments><initialAssignment symbol="A">{}</initialAssignment></listOfInitialAssignments>
<listOfRules><assignmentRule variable="k2">{}</assignmentRule><assignmentRule variable="T">{}</assignmentRule></listOfRules>
<listOfReactions>{}{}</listOfReactions>"#,
        species("A", 0.0, true),
        species("B", 2.0, true),
        species("T", 0.0, true),
        math(&apply("times", &[&cn(5.0), "<ci>k</ci>"])),
        math(&apply("times", &[&cn(3.0), "<ci>k</ci>"])),
        math(&apply(
            "plus",
            &["<ci>A</ci>", &apply("times", &[&cn(2.0), "<ci>B</ci>"])]
        )),
        reaction(
            "r1",
            &[("A", 1)],
            &[],
            &apply("times", &["<ci>k2</ci>", "<ci>A</ci>"]),
            ""
        ),
        reaction("r2", &[], &[("B", 1)], "<ci>T</ci>", ""),
    ));
    let model = load(&text);
    assert_eq!(model.species[0].initial, 5);
    // T = A + 2B = 9 is substituted into r2 and recorded as an observable.
    assert_eq!(propensities(&model), vec![15.0, 9.0]);
    assert!(matches!(model.record[2], Quantity::Observable(0)));
    assert_eq!(model.observables[0].terms, vec![(0, 1.0), (1, 2.0)]);
    // After a change of A the substituted rule follows.
    let net = Network::compile(&model);
    let mut state = net.initial_state();
    state.counts[0] = 1;
    assert_eq!(net.propensity(1, &state), 5.0);
}

fn event(trigger: &str, extra: &str, assignment: &str, attrs: &str) -> String {
    format!(
        r#"<listOfEvents><event id="e" {attrs}><trigger initialValue="false" persistent="true">{}</trigger>{extra}
<listOfEventAssignments><eventAssignment variable="A">{}</eventAssignment></listOfEventAssignments></event></listOfEvents>"#,
        math(trigger),
        math(assignment)
    )
}

fn with_event(ev: &str) -> String {
    l3(&format!(
        r#"{CELL}<listOfSpecies>{}</listOfSpecies><listOfParameters><parameter id="c" value="25" constant="true"/></listOfParameters>{ev}"#,
        species("A", 0.0, false)
    ))
}

#[test]
fn timed_events_become_the_default_protocol() {
    let geq = apply("geq", &[TIME, "<ci>c</ci>"]);
    let model = load(&with_event(&event(&geq, "", &cn(50.0), "")));
    assert_eq!(model.default_protocol.as_deref(), Some("sbml_events"));
    let events = &model.protocols[0].events;
    assert_eq!(events[0].time, 25.0);
    // A concentration of 50 in a compartment of size 2 is 100 molecules.
    assert_eq!(
        events[0].actions,
        vec![Action::SetSpecies {
            species: 0,
            count: 100
        }]
    );
    // A delay moves the firing; `X + c` becomes an addition.
    let delayed = event(
        &geq,
        &format!("<delay>{}</delay>", math(&cn(2.5))),
        &apply("plus", &["<ci>A</ci>", &cn(1.0)]),
        r#"useValuesFromTriggerTime="false""#,
    );
    let model = load(&with_event(&delayed));
    assert_eq!(model.protocols[0].events[0].time, 27.5);
    assert_eq!(
        model.protocols[0].events[0].actions,
        vec![Action::AddSpecies {
            species: 0,
            count: 2
        }]
    );
    // time > c fires just after c, so the state recorded at c is before the event.
    let gt = load(&with_event(&event(
        &apply("gt", &[TIME, &cn(25.0)]),
        "",
        &cn(1.0),
        "",
    )));
    let t = gt.protocols[0].events[0].time;
    assert!(t > 25.0 && t < 25.0 + 1e-9);
    // A trigger already true at t = 0 fires then with initialValue false, never with true.
    let at_start = event(&apply("geq", &[TIME, &cn(0.0)]), "", &cn(1.0), "");
    assert_eq!(
        load(&with_event(&at_start)).protocols[0].events[0].time,
        0.0
    );
    let never = at_start.replace(r#"initialValue="false""#, r#"initialValue="true""#);
    let model = load(&with_event(&never));
    assert!(model.protocols[0].events.is_empty());
    assert!(model.warnings[0].message.contains("never fires"));
}

#[test]
fn the_three_sbml_versions_of_each_dsmts_case_give_the_same_network() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dsmts/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let id = case.file_name().unwrap().to_string_lossy().into_owned();
        let models: Vec<Model> = ["l2v4", "l3v1", "l3v2"]
            .iter()
            .map(|v| spinesim::model::load_model(&case.join(format!("{id}-sbml-{v}.xml"))).unwrap())
            .collect();
        for m in &models[1..] {
            assert_eq!(m.species, models[0].species, "{id}");
            assert_eq!(propensities(m), propensities(&models[0]), "{id}");
            assert_eq!(m.protocols, models[0].protocols, "{id}");
            let changes = |m: &Model| {
                m.reactions
                    .iter()
                    .map(|r| r.net_change())
                    .collect::<Vec<_>>()
            };
            assert_eq!(changes(m), changes(&models[0]), "{id}");
        }
    }
}

/// Each unsupported construct stops with an error naming the element, its id and the line.
#[test]
fn unsupported_constructs_give_located_errors() {
    let base = |extra: &str| {
        l3(&format!(
            r#"{CELL}
<listOfSpecies>{}</listOfSpecies>
<listOfParameters><parameter id="k" value="1" constant="false"/></listOfParameters>
{extra}"#,
            species("A", 1.0, true)
        ))
    };
    let law = |m: &str| {
        format!(
            "<listOfReactions>{}</listOfReactions>",
            reaction("R1", &[("A", 1)], &[], m, "")
        )
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "algebraic rule",
            base(&format!(
                "<listOfRules><algebraicRule>{}</algebraicRule></listOfRules>",
                math("<ci>k</ci>")
            )),
            "algebraic rules are not supported",
        ),
        (
            "rate rule",
            base(&format!(
                r#"<listOfRules><rateRule variable="k">{}</rateRule></listOfRules>"#,
                math(&cn(1.0))
            )),
            "rate rules are not supported (rateRule for 'k')",
        ),
        (
            "fast reaction",
            base(&law(&cn(1.0)).replace(r#"fast="false""#, r#"fast="true""#)),
            "reaction 'R1': fast reactions are not supported",
        ),
        (
            "trigger non-linear in time",
            base(&event(
                &apply("gt", &[&apply("sin", &[TIME]), &cn(0.5)]),
                "",
                &cn(1.0),
                "",
            )),
            "event 'e': trigger: a comparison in a trigger may read time only linearly",
        ),
        (
            "time outside a comparison in a trigger",
            base(&event(
                &apply("and", &[TIME, &apply("gt", &["<ci>A</ci>", &cn(5.0)])]),
                "",
                &cn(1.0),
                "",
            )),
            "event 'e': trigger: in a trigger, time may only appear inside a comparison",
        ),
        (
            "event assignment of a compartment",
            base(&event(
                &apply("gt", &["<ci>A</ci>", &cn(5.0)]),
                "",
                &cn(1.0),
                "",
            ))
            .replace(r#"variable="A""#, r#"variable="cell""#),
            "event assignment 'cell': in event 'e': assignments to compartment sizes are not supported",
        ),
        (
            "time in a kinetic law",
            base(&law(&apply("times", &[TIME, "<ci>A</ci>"]))),
            "reaction 'R1': kinetic law: the time csymbol is not supported",
        ),
        (
            "piecewise on state",
            base(&law(&format!(
                "<piecewise><piece>{}{}</piece><otherwise>{}</otherwise></piecewise>",
                cn(1.0),
                apply("gt", &["<ci>A</ci>", &cn(0.0)]),
                cn(0.0)
            ))),
            "reaction 'R1': kinetic law: piecewise is only supported with constant arguments",
        ),
        (
            "constraint",
            base(&format!(
                "<listOfConstraints><constraint>{}</constraint></listOfConstraints>",
                math("<true/>")
            )),
            "constraints are not supported",
        ),
        (
            "nonlinear species rule",
            base(&format!(
                r#"<listOfRules><assignmentRule variable="A">{}</assignmentRule></listOfRules>"#,
                math(&apply("times", &["<ci>k</ci>", "<ci>k</ci>"]))
            )),
            "assignment rule 'A': a species assignment rule is only supported as a weighted sum",
        ),
        (
            "unknown MathML",
            base(&law(&apply("arccoth", &[&cn(1.0)]))),
            "MathML operator <arccoth> is not supported",
        ),
        (
            "delay csymbol",
            base(&law(
                r#"<apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay">d</csymbol><ci>A</ci><cn>1</cn></apply>"#,
            )),
            "csymbol function 'http://www.sbml.org/sbml/symbols/delay' is not supported",
        ),
        (
            "fractional amount",
            base("").replace(r#"initialAmount="1""#, r#"initialAmount="1.5""#),
            "species 'A': initial amount 1.5 is not a whole",
        ),
        (
            "unknown package element",
            base(
                r#"<comp:listOfSubmodels xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1"/>"#,
            ),
            "(an SBML package) is not supported",
        ),
    ];
    for (what, text, expected) in cases {
        let message = load_err(&text);
        assert!(message.starts_with("t.xml:"), "{what}: {message}");
        let line: usize = message.split(':').nth(1).unwrap().parse().unwrap();
        assert!(line > 3, "{what}: no line in {message}");
        assert!(
            message.contains(expected),
            "{what}: expected '{expected}' in\n{message}"
        );
    }
    // A required package and an unsupported level are refused at the <sbml> element.
    let distrib = l3("").replace(
        r#"level="3" version="1">"#,
        r#"level="3" version="1" xmlns:distrib="http://www.sbml.org/sbml/level3/version1/distrib/version1" distrib:required="true">"#,
    );
    assert!(load_err(&distrib).contains("t.xml:2: SBML package 'distrib'"));
    let l2v1 = l3("")
        .replace("level3/version1/core", "level2")
        .replace(r#"level="3" version="1""#, r#"level="2" version="1""#);
    assert!(load_err(&l2v1).contains("t.xml:2: SBML level 2 version 1 is not supported"));
    assert!(load_err("<sbml").contains("t.xml:1: not well-formed XML"));
}

use spinesim::sbml::write::{to_sbml, ProtocolChoice};
use spinesim::schedule::Schedule;

/// A protocol's scheduled events with parameters and species named, for comparing two models.
fn named_schedule(model: &Model, protocol: Option<&str>) -> Vec<(f64, Vec<String>)> {
    let Some(p) = protocol.and_then(|p| model.protocol(p)) else {
        return Vec::new();
    };
    let schedule = Schedule::new(p, f64::INFINITY);
    let param = |i: usize| model.parameters[i].name.clone();
    let species = |i: usize| model.species[i].name.clone();
    schedule
        .events()
        .iter()
        .map(|e| {
            let actions = schedule
                .actions(e)
                .iter()
                .map(|a| match *a {
                    Action::SetParameter { parameter, value } => {
                        format!("set {} {value:?}", param(parameter))
                    }
                    Action::ScaleParameter { parameter, factor } => {
                        format!("scale {} {factor:?}", param(parameter))
                    }
                    Action::SetSpecies { species: s, count } => {
                        format!("set {} {count}", species(s))
                    }
                    Action::AddSpecies { species: s, count } => {
                        format!("add {} {count}", species(s))
                    }
                    Action::RemoveSpecies { species: s, count } => {
                        format!("remove {} {count}", species(s))
                    }
                    Action::Binomial { species: s, p, .. } => {
                        format!("binomial {} {p}", species(s))
                    }
                })
                .collect();
            (e.time, actions)
        })
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            "{what}: channel {i}: {x} vs {y}"
        );
    }
}

/// Export → import gives the same compiled network (species, channels, stoichiometry,
/// propensities at the initial state and after changes of counts and of protocol-set
/// parameters) and the same events, for every shipped model and each of its protocols.
#[test]
fn export_then_import_gives_the_same_network_for_every_shipped_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let model = spinesim::model::load_model(&file).unwrap();
        // Protocols with a binomial draw (stochastic release) cannot be exported without loss;
        // `export_stops_at_a_binomial_draw_unless_lossy` covers them. Their models' networks are
        // still compared through the other protocols and through `None`.
        let binomial = |p: &spinesim::model::Protocol| {
            p.trains
                .iter()
                .flat_map(|t| t.on.iter().chain(&t.off))
                .chain(p.events.iter().flat_map(|e| &e.actions))
                .any(|a| matches!(a, spinesim::model::Action::Binomial { .. }))
        };
        let mut choices: Vec<Option<&str>> = model
            .protocols
            .iter()
            .filter(|p| !binomial(p))
            .map(|p| Some(p.name.as_str()))
            .collect();
        choices.push(None);
        for protocol in choices {
            let what = format!("{} with protocol {protocol:?}", file.display());
            let choice = protocol.map_or(ProtocolChoice::None, ProtocolChoice::Named);
            let exported = to_sbml(&model, choice, false).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(exported.dropped.is_empty());
            let back = parse_sbml(&exported.xml, Path::new("exported.xml"))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(back.species, model.species, "{what}");
            let changes = |m: &Model| {
                m.reactions
                    .iter()
                    .map(|r| r.net_change())
                    .collect::<Vec<_>>()
            };
            assert_eq!(changes(&back), changes(&model), "{what}");
            let (net_a, net_b) = (Network::compile(&model), Network::compile(&back));
            let (mut a, mut b) = (net_a.initial_state(), net_b.initial_state());
            let props = |net: &Network, s: &spinesim::network::State| {
                (0..net.n_channels())
                    .map(|r| net.propensity(r, s))
                    .collect::<Vec<f64>>()
            };
            assert_close(
                &props(&net_a, &a),
                &props(&net_b, &b),
                &format!("{what}, initial state"),
            );
            for k in 0..5i64 {
                for (i, (ca, cb)) in a.counts.iter_mut().zip(b.counts.iter_mut()).enumerate() {
                    *ca = (i as i64 * 7 + k * 13) % 41;
                    *cb = *ca;
                }
                assert_close(
                    &props(&net_a, &a),
                    &props(&net_b, &b),
                    &format!("{what}, counts set {k}"),
                );
            }
            // The events, and the state after each of the first events.
            let events_b = back.default_protocol.as_deref();
            assert_eq!(
                named_schedule(&back, events_b).len(),
                named_schedule(&model, protocol).len(),
                "{what}"
            );
            for ((ta, xa), (tb, xb)) in named_schedule(&model, protocol)
                .iter()
                .zip(named_schedule(&back, events_b))
            {
                assert!(
                    (ta - tb).abs() <= 1e-12 * ta.abs().max(1.0),
                    "{what}: event at {ta} vs {tb}"
                );
                assert_eq!(xa, &xb, "{what}: event at {ta}");
            }
            if let (Some(pa), Some(pb)) = (
                protocol.and_then(|p| model.protocol(p)),
                events_b.and_then(|p| back.protocol(p)),
            ) {
                let (sa, sb) = (
                    Schedule::new(pa, f64::INFINITY),
                    Schedule::new(pb, f64::INFINITY),
                );
                let mut rng = spinesim::ensemble::trajectory_rng(1, 0);
                for (ea, eb) in sa.events().iter().zip(sb.events()).take(4) {
                    sa.actions(ea)
                        .iter()
                        .for_each(|x| spinesim::schedule::apply_action(x, &mut a, &mut rng));
                    sb.actions(eb)
                        .iter()
                        .for_each(|x| spinesim::schedule::apply_action(x, &mut b, &mut rng));
                    net_a.update_constants(&mut a);
                    net_b.update_constants(&mut b);
                    assert_close(
                        &props(&net_a, &a),
                        &props(&net_b, &b),
                        &format!("{what}, after event at {}", ea.time),
                    );
                }
            }
        }
    }
}

#[test]
fn export_stops_at_a_binomial_draw_unless_lossy() {
    let toml = r#"
[model]
name = "release"
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "V"
initial = 100
[[species]]
name = "G"
initial = 0
[[reactions]]
name = "clear"
equation = "G ->"
rate = "1 /s"
[[protocols]]
name = "pulse"
[[protocols.events]]
time = "1 s"
actions = [ { binomial = "V", p = 0.5, into = "G" }, { add = "G", amount = 3 }, { remove = "V", amount = 2 } ]
"#;
    let model = spinesim::model::parse_model(toml, Path::new("release.toml")).unwrap();
    let err = to_sbml(&model, ProtocolChoice::Default, false).unwrap_err();
    assert!(
        err.contains("binomial draw of 'V'") && err.contains("--lossy"),
        "{err}"
    );
    let lossy = to_sbml(&model, ProtocolChoice::Default, true).unwrap();
    assert_eq!(lossy.dropped.len(), 1);
    assert!(lossy.dropped[0].contains("binomial draw of 'V' (p = 0.5) at t = 1 s"));
    // What remains (add, remove) reads back.
    let back = parse_sbml(&lossy.xml, Path::new("release.xml")).unwrap();
    assert_eq!(
        back.protocols[0].events[0].actions,
        vec![
            Action::AddSpecies {
                species: 1,
                count: 3
            },
            Action::RemoveSpecies {
                species: 0,
                count: 2
            }
        ]
    );
}

#[test]
fn an_initial_amount_needs_no_compartment_size() {
    let text = l3(
        r#"<listOfCompartments><compartment id="c" constant="true"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="c" initialAmount="5" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>"#,
    );
    assert_eq!(load(&text).species[0].initial, 5);
    // Reading it as a concentration does need the size.
    let read = text.replace(
        "</listOfSpecies>",
        &format!(
            "</listOfSpecies><listOfReactions>{}</listOfReactions>",
            reaction("r", &[("X", 1)], &[], "<ci>X</ci>", "")
        ),
    );
    assert!(load_err(&read).contains("compartment 'c' has no size"));
}

#[test]
fn the_cli_exports_runs_and_refuses_sbml() {
    let bin = env!("CARGO_BIN_EXE_spinesim");
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let xml = tmp.path().join("spine.xml");
    let run =
        |args: &[&std::ffi::OsStr]| std::process::Command::new(bin).args(args).output().unwrap();
    // Several protocols: the user must choose one.
    let model = root.join("models/spine_ltd_core.toml");
    let out = run(&[
        "export-sbml".as_ref(),
        model.as_os_str(),
        "-o".as_ref(),
        xml.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--protocol NAME (baseline, lfs_1hz, lfs_1hz_60min, hfs_100hz, freq_0_5hz, freq_3hz, freq_5hz, freq_10hz, freq_20hz, freq_50hz, freq_100hz, chem_ltd)"));
    let out = run(&[
        "export-sbml".as_ref(),
        model.as_os_str(),
        "-o".as_ref(),
        xml.as_os_str(),
        "--protocol".as_ref(),
        "hfs_100hz".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["check".as_ref(), xml.as_os_str()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("sbml_events"));
    // An unsupported construct: exit code 2 and a located message.
    let bad = tmp.path().join("bad.xml");
    let text =
        std::fs::read_to_string(root.join("tests/dsmts/cases/00001/00001-sbml-l3v1.xml")).unwrap();
    std::fs::write(&bad, text.replace(r#"fast="false""#, r#"fast="true""#)).unwrap();
    let out = run(&[
        "run".as_ref(),
        bad.as_os_str(),
        "--t-end".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        tmp.path().join("o").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.xml:")
            && err.contains("reaction 'Birth': fast reactions are not supported"),
        "{err}"
    );
    assert!(!tmp.path().join("o").exists());
}

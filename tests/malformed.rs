//! Malformed models: every error names the file, the 1-based line of the offending item, the
//! item and what is wrong. Lines are computed from the model text by searching for a marker,
//! so the tests survive edits to the base model.

use std::path::Path;

use spinesim::error::{Diagnostic, ModelError};
use spinesim::model::{load_model, parse_model, Model};

const FILE: &str = "bad.toml";

/// A valid model that the cases below break in one place each.
const BASE: &str = r#"# a small valid model
[model]
name = "base"
description = "valid; every malformed case changes one thing"

[[compartments]]
name = "spine"
volume = "0.1 fL"

[[parameters]]
name = "kcat_CaN"
value = "2 /s"

[[parameters]]
name = "G"
value = "0 uM"

[[parameters]]
name = "kon"
expr = "0.5[1/(uM*s)] + kcat_CaN * 0[1/uM]"

[[species]]
name = "CaM4"
initial = 10

[[species]]
name = "Ca"
initial = "50 nM"

[[species]]
name = "CaN"
initial = 5

[[reactions]]
name = "bind"
equation = "CaM4 + Ca <-> CaN"
rate = "kon"
reverse = "kcat_CaN"

[[reactions]]
name = "influx"
equation = "-> Ca"
rate = "G * 1[1/s]"

[[observables]]
name = "Total"
expr = "CaM4 + CaN"

[[protocols]]
name = "pulse"
t_end = "10 s"

[[protocols.events]]
time = "1 s"
actions = [ { set = "G", value = "150 uM" } ]

[[outcomes]]
name = "Ca_peak"
kind = "peak"
observable = "Ca"
window = ["1 s", "end"]
"#;

/// 1-based line of the (unique) marker in `text`.
#[track_caller]
fn line_of(text: &str, marker: &str) -> usize {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in the model text"));
    assert_eq!(
        Some(at),
        text.rfind(marker),
        "marker {marker:?} is not unique in the model text"
    );
    text[..at].matches('\n').count() + 1
}

/// `BASE` with `extra` appended.
fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// `BASE` with one (unique) piece of text replaced.
#[track_caller]
fn replaced(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from:?} must occur once");
    BASE.replacen(from, to, 1)
}

#[track_caller]
fn errors(text: &str) -> ModelError {
    match parse_model(text, Path::new(FILE)) {
        Ok(_) => panic!("the model should be rejected:\n{text}"),
        Err(e) => e,
    }
}

fn parse_ok(text: &str) -> Model {
    parse_model(text, Path::new(FILE)).unwrap_or_else(|e| panic!("should load:\n{e}"))
}

fn list(e: &ModelError) -> String {
    e.diagnostics
        .iter()
        .map(|d| format!("  {d}  [kind {}]", d.kind))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that the model fails with exactly one diagnostic: file, line of `marker`, kind,
/// item and every substring of `message`.
#[track_caller]
fn expect_error(text: &str, marker: &str, kind: &str, item: &str, message: &[&str]) -> Diagnostic {
    let e = errors(text);
    assert_eq!(
        e.diagnostics.len(),
        1,
        "expected exactly one problem, got:\n{}",
        list(&e)
    );
    let d = e.first().clone();
    check(&d, text, marker, kind, item, message);
    d
}

/// Like [`expect_error`] for a broken derived parameter, but only among the parameter
/// diagnostics (a broken parameter currently also makes every parameter-dependent rate report
/// "evaluates to NaN"; that cascade is tested separately).
#[track_caller]
fn expect_param_error(text: &str, marker: &str, item: &str, message: &[&str]) {
    let e = errors(text);
    let params: Vec<&Diagnostic> = e
        .diagnostics
        .iter()
        .filter(|d| d.kind == "parameter")
        .collect();
    assert_eq!(
        params.len(),
        1,
        "expected one parameter problem:\n{}",
        list(&e)
    );
    check(params[0], text, marker, "parameter", item, message);
}

#[track_caller]
fn check(d: &Diagnostic, text: &str, marker: &str, kind: &str, item: &str, message: &[&str]) {
    assert_eq!(d.file, Path::new(FILE), "file of {d}");
    assert_eq!(d.line, line_of(text, marker), "line of {d}");
    assert_eq!(d.kind, kind, "kind of {d}");
    assert_eq!(d.item, item, "item of {d}");
    for m in message {
        assert!(
            d.message.contains(m),
            "message of {d:?} should contain {m:?}"
        );
    }
    // The displayed form starts with file:line.
    let shown = d.to_string();
    assert!(
        shown.starts_with(&format!("{FILE}:{}: ", d.line)),
        "display {shown:?}"
    );
    if !item.is_empty() {
        assert!(shown.contains(&format!("'{item}'")), "display {shown:?}");
    }
}

#[test]
fn base_model_is_valid() {
    let m = parse_ok(BASE);
    assert!(
        m.warnings.is_empty(),
        "unexpected warnings: {:?}",
        m.warnings
    );
    assert_eq!(m.reactions.len(), 3);
}

#[test]
fn toml_syntax_error() {
    let text = replaced("name = \"influx\"", "name = \"influx");
    let e = errors(&text);
    assert_eq!(e.diagnostics.len(), 1, "{}", list(&e));
    let d = e.first();
    assert_eq!(d.file, Path::new(FILE));
    assert_eq!(d.kind, "toml");
    assert_eq!(d.line, line_of(&text, "name = \"influx"), "{d}");
    assert!(d.message.contains("string"), "{d}");
    assert!(d.to_string().starts_with(&format!("{FILE}:{}: ", d.line)));
}

#[test]
fn toml_syntax_error_missing_bracket() {
    let text = replaced("[[observables]]", "[[observables]");
    let e = errors(&text);
    assert_eq!(e.diagnostics.len(), 1, "{}", list(&e));
    let d = e.first();
    assert_eq!(d.kind, "toml");
    assert_eq!(d.line, line_of(&text, "[[observables]"), "{d}");
    assert!(d.message.contains("expected `]`"), "{d}");
}

#[test]
fn unknown_field_typo() {
    let text = replaced("rate = \"G * 1[1/s]\"", "rat = \"G * 1[1/s]\"");
    let e = errors(&text);
    assert_eq!(e.diagnostics.len(), 1, "{}", list(&e));
    let d = e.first();
    assert_eq!(d.file, Path::new(FILE));
    assert_eq!(d.kind, "toml");
    assert_eq!(d.line, line_of(&text, "rat = "), "{d}");
    assert!(d.message.contains("unknown field"), "{d}");
    assert!(d.message.contains("`rat`"), "{d}");
    // The valid fields are listed, so the fix is obvious.
    assert!(d.message.contains("`rate`"), "{d}");
}

#[test]
fn unknown_species_in_equation_with_did_you_mean() {
    let text = with(
        r#"
[[reactions]]
name = "typo"
equation = "CaM3 -> CaN"
rate = "1 /s"
"#,
    );
    expect_error(
        &text,
        "equation = \"CaM3",
        "reaction",
        "typo",
        &["unknown species 'CaM3'", "did you mean 'CaM4'?"],
    );
}

#[test]
fn duplicate_species_name() {
    let text = with(
        r#"
[[species]]
name = "Ca"   # duplicate
initial = 3
"#,
    );
    let d = expect_error(
        &text,
        "name = \"Ca\"   # duplicate",
        "species",
        "Ca",
        &["duplicate name"],
    );
    let first = line_of(&text, "name = \"Ca\"\n");
    assert!(
        d.message
            .contains(&format!("first declared on line {first}")),
        "{d}"
    );
}

#[test]
fn duplicate_reaction_name() {
    let text = with(
        r#"
[[reactions]]
name = "influx"   # again
equation = "Ca ->"
rate = "1 /s"
"#,
    );
    let d = expect_error(
        &text,
        "name = \"influx\"   # again",
        "reaction",
        "influx",
        &["duplicate name"],
    );
    let first = line_of(&text, "name = \"influx\"\n");
    assert!(
        d.message
            .contains(&format!("first declared on line {first}")),
        "{d}"
    );
}

#[test]
fn name_shared_between_parameter_and_species() {
    let text = with(
        r#"
[[species]]
name = "kcat_CaN"
initial = 0
"#,
    );
    let e = errors(&text);
    let d = e
        .diagnostics
        .iter()
        .find(|d| d.message.contains("duplicate name"))
        .unwrap_or_else(|| panic!("no duplicate-name error:\n{}", list(&e)));
    let marker = "name = \"kcat_CaN\"\ninitial = 0";
    check(d, &text, marker, "species", "kcat_CaN", &["duplicate name"]);
}

#[test]
fn reserved_output_column_names_are_refused() {
    for (kind, reserved) in [
        ("species", "time"),
        ("parameter", "run"),
        ("observable", "events"),
    ] {
        let extra = match kind {
            "species" => format!("\n[[species]]\nname = \"{reserved}\"\ninitial = 1\n"),
            "parameter" => format!("\n[[parameters]]\nname = \"{reserved}\"\nvalue = \"1 s\"\n"),
            _ => format!("\n[[observables]]\nname = \"{reserved}\"\nexpr = \"Ca + CaN\"\n"),
        };
        let text = with(&extra);
        let e = errors(&text);
        let d = e
            .diagnostics
            .iter()
            .find(|d| d.item == reserved)
            .unwrap_or_else(|| panic!("no error for {reserved}:\n{}", list(&e)));
        check(
            d,
            &text,
            &format!("name = \"{reserved}\""),
            kind,
            reserved,
            &["reserved"],
        );
    }
}

#[test]
fn rate_unit_does_not_match_order() {
    let text = with(
        r#"
[[reactions]]
name = "second"
equation = "CaM4 + Ca -> CaN"
rate = "3 /s"
"#,
    );
    expect_error(
        &text,
        "rate = \"3 /s\"",
        "reaction",
        "second",
        &["has unit 1/s", "expected 1/(uM*s)", "order 2"],
    );
}

#[test]
fn reverse_rate_unit_does_not_match_order() {
    // The reverse of "A + B <-> C" is first order: 1/(uM s) is wrong for it.
    let text = replaced("reverse = \"kcat_CaN\"", "reverse = \"2 /uM/s\"");
    expect_error(
        &text,
        "reverse = \"2 /uM/s\"",
        "reaction",
        "bind",
        &["reverse", "expected 1/s", "order 1"],
    );
}

#[test]
fn rate_without_unit() {
    let text = with(
        r#"
[[reactions]]
name = "bare"
equation = "Ca ->"
rate = 5
"#,
    );
    expect_error(
        &text,
        "rate = 5",
        "reaction",
        "bare",
        &["no unit", "1/s", "order 1"],
    );
}

#[test]
fn rate_with_unknown_unit() {
    let text = with(
        r#"
[[reactions]]
name = "furlongs"
equation = "Ca ->"
rate = "5 /fortnight"
"#,
    );
    expect_error(
        &text,
        "rate = \"5 /fortnight\"",
        "reaction",
        "furlongs",
        &["fortnight"],
    );
}

#[test]
fn negative_rate() {
    let text = with(
        r#"
[[reactions]]
name = "neg"
equation = "Ca ->"
rate = "-1 /s"
"#,
    );
    expect_error(
        &text,
        "rate = \"-1 /s\"",
        "reaction",
        "neg",
        &["-1", "not negative"],
    );
}

#[test]
fn non_finite_parameter_value() {
    let text = with(
        r#"
[[parameters]]
name = "huge"
value = inf
"#,
    );
    let d = expect_error(&text, "value = inf", "parameter", "huge", &["not finite"]);
    assert!(d.message.contains("value"), "{d}");
}

#[test]
fn non_finite_number_in_quantity() {
    let text = with(
        r#"
[[parameters]]
name = "huge"
value = "1e999 uM"
"#,
    );
    expect_error(
        &text,
        "value = \"1e999 uM\"",
        "parameter",
        "huge",
        &["not finite"],
    );
}

#[test]
fn non_finite_rate() {
    let text = with(
        r#"
[[reactions]]
name = "inf_rate"
equation = "Ca ->"
rate = "1e999 /s"
"#,
    );
    expect_error(
        &text,
        "rate = \"1e999 /s\"",
        "reaction",
        "inf_rate",
        &["not finite"],
    );
}

#[test]
fn reversible_reaction_without_reverse() {
    let text = with(
        r#"
[[reactions]]
name = "oneway"
equation = "Ca <-> CaN"
rate = "1 /s"
"#,
    );
    expect_error(
        &text,
        "name = \"oneway\"",
        "reaction",
        "oneway",
        &["reversible", "`reverse`"],
    );
}

#[test]
fn reverse_on_irreversible_reaction() {
    let text = with(
        r#"
[[reactions]]
name = "oneway"
equation = "Ca -> CaN"
rate = "1 /s"
reverse = "1 /s"
"#,
    );
    expect_error(
        &text,
        "name = \"oneway\"",
        "reaction",
        "oneway",
        &["`reverse` is only for reversible"],
    );
}

#[test]
fn custom_propensity_with_wrong_unit() {
    // kon is 1/(uM s); times a count it is still 1/(uM s), not events per second.
    let text = with(
        r#"
[[reactions]]
name = "custom"
equation = "Ca -> CaN"
propensity = "kon * Ca"
"#,
    );
    expect_error(
        &text,
        "propensity = \"kon * Ca\"",
        "reaction",
        "custom",
        &["propensity has unit 1/(uM*s)", "expected 1/s"],
    );
}

#[test]
fn parameter_expr_with_unknown_name() {
    let text = with(
        r#"
[[parameters]]
name = "derived"
expr = "2 * kcat_CaM"
"#,
    );
    expect_param_error(
        &text,
        "expr = \"2 * kcat_CaM\"",
        "derived",
        &["unknown name 'kcat_CaM'", "did you mean 'kcat_CaN'?"],
    );
}

#[test]
fn parameter_cycle() {
    let text = with(
        r#"
[[parameters]]
name = "p_a"
expr = "2 * p_b"

[[parameters]]
name = "p_b"
expr = "3 * p_a"
"#,
    );
    let e = errors(&text);
    // Only the parameter diagnostics: see `broken_parameter_does_not_cascade_into_unrelated_rates`.
    let params: Vec<&Diagnostic> = e
        .diagnostics
        .iter()
        .filter(|d| d.kind == "parameter")
        .collect();
    assert_eq!(
        params.len(),
        2,
        "both parameters of the cycle:\n{}",
        list(&e)
    );
    check(
        params[0],
        &text,
        "expr = \"2 * p_b\"",
        "parameter",
        "p_a",
        &["cycle"],
    );
    check(
        params[1],
        &text,
        "expr = \"3 * p_a\"",
        "parameter",
        "p_b",
        &["cycle"],
    );
}

#[test]
fn parameter_self_reference() {
    let text = with(
        r#"
[[parameters]]
name = "selfish"
expr = "1 + selfish"
"#,
    );
    expect_param_error(&text, "expr = \"1 + selfish\"", "selfish", &["cycle"]);
}

#[test]
fn unknown_compartment() {
    let text = with(
        r#"
[[species]]
name = "Lost"
initial = 1
compartment = "spin"
"#,
    );
    let e = errors(&text);
    // The species is also untouched, but that is only a warning; exactly one error.
    assert_eq!(e.diagnostics.len(), 1, "{}", list(&e));
    check(
        e.first(),
        &text,
        "compartment = \"spin\"",
        "species",
        "Lost",
        &["unknown compartment 'spin'", "did you mean 'spine'?"],
    );
}

#[test]
fn protocol_action_on_unknown_parameter() {
    let text = with(
        r#"
[[protocols]]
name = "block"

[[protocols.events]]
time = "2 s"
actions = [ { scale = "kcat_CaM", factor = 0.0 } ]
"#,
    );
    expect_error(
        &text,
        "scale = \"kcat_CaM\"",
        "protocol",
        "block",
        &[
            "action on unknown parameter 'kcat_CaM'",
            "did you mean 'kcat_CaN'?",
        ],
    );
}

#[test]
fn protocol_set_with_wrong_unit() {
    let text = replaced(
        "{ set = \"G\", value = \"150 uM\" }",
        "{ set = \"G\", value = \"150 mV\" }",
    );
    expect_error(
        &text,
        "value = \"150 mV\"",
        "protocol",
        "pulse",
        &["'G'", "has unit mV", "expected uM"],
    );
}

#[test]
fn binomial_probability_above_one() {
    let text = with(
        r#"
[[protocols]]
name = "release"

[[protocols.events]]
time = "2 s"
actions = [ { binomial = "CaN", p = 1.5, into = "Ca" } ]
"#,
    );
    expect_error(
        &text,
        "binomial = \"CaN\"",
        "protocol",
        "release",
        &["binomial p", "[0, 1]", "1.5"],
    );
}

#[test]
fn outcome_on_unknown_observable() {
    let text = with(
        r#"
[[outcomes]]
name = "tot_mean"
kind = "mean"
observable = "Totl"
"#,
    );
    expect_error(
        &text,
        "observable = \"Totl\"",
        "outcome",
        "tot_mean",
        &[
            "unknown species or observable 'Totl'",
            "did you mean 'Total'?",
        ],
    );
}

#[test]
fn outcome_window_ends_before_it_starts() {
    let text = with(
        r#"
[[outcomes]]
name = "backwards"
kind = "mean"
observable = "Total"
window = ["5 s", "2 s"]
"#,
    );
    expect_error(
        &text,
        "window = [\"5 s\", \"2 s\"]",
        "outcome",
        "backwards",
        &["ends before it starts"],
    );
}

#[test]
fn outcome_window_counted_from_end_backwards() {
    let text = with(
        r#"
[[outcomes]]
name = "backwards_end"
kind = "integral"
observable = "Ca"
window = ["end - 1 s", "end - 5 s"]
"#,
    );
    expect_error(
        &text,
        "window = [\"end - 1 s\"",
        "outcome",
        "backwards_end",
        &["ends before it starts"],
    );
}

#[test]
fn outcome_with_unknown_kind() {
    let text = with(
        r#"
[[outcomes]]
name = "oops"
kind = "peek"
observable = "Ca"
"#,
    );
    expect_error(
        &text,
        "kind = \"peek\"",
        "outcome",
        "oops",
        &["unknown kind 'peek'", "did you mean 'peak'?"],
    );
}

#[test]
fn observable_that_is_not_linear() {
    let text = with(
        r#"
[[observables]]
name = "Product"
expr = "CaM4 * CaN"
"#,
    );
    expect_error(
        &text,
        "expr = \"CaM4 * CaN\"",
        "observable",
        "Product",
        &["weighted sum of species"],
    );
}

#[test]
fn observable_with_unknown_species() {
    let text = with(
        r#"
[[observables]]
name = "Sum"
expr = "CaM4 + CaNN"
"#,
    );
    expect_error(
        &text,
        "expr = \"CaM4 + CaNN\"",
        "observable",
        "Sum",
        &["unknown species 'CaNN'", "did you mean 'CaN'?"],
    );
}

#[test]
fn rate_using_a_species_is_refused() {
    let text = with(
        r#"
[[reactions]]
name = "countdep"
equation = "Ca ->"
rate = "Ca * 1[1/s]"
"#,
    );
    expect_error(
        &text,
        "rate = \"Ca * 1[1/s]\"",
        "reaction",
        "countdep",
        &["'Ca'", "not a parameter", "propensity"],
    );
}

#[test]
fn several_errors_are_reported_at_once_in_file_order() {
    let text = with(
        r#"
[[species]]
name = "Stray"
initial = 1
compartment = "dendrite"

[[species]]
name = "CaN"   # second CaN
initial = 1

[[reactions]]
name = "wrong_order"
equation = "CaM4 + Ca -> CaN"
rate = "1 /s"

[[reactions]]
name = "no_unit"
equation = "Ca ->"
rate = 2

[[protocols]]
name = "prob"

[[protocols.events]]
time = "1 s"
actions = [ { binomial = "CaN", p = -0.5 } ]

[[outcomes]]
name = "ghost"
kind = "peak"
observable = "Nope"
"#,
    );
    let e = errors(&text);
    assert_eq!(e.diagnostics.len(), 6, "six problems:\n{}", list(&e));
    let expected = [
        (
            "compartment = \"dendrite\"",
            "species",
            "Stray",
            "unknown compartment",
        ),
        (
            "name = \"CaN\"   # second CaN",
            "species",
            "CaN",
            "duplicate name",
        ),
        (
            "rate = \"1 /s\"\n\n[[reactions]]\nname = \"no_unit\"",
            "reaction",
            "wrong_order",
            "order 2",
        ),
        ("rate = 2", "reaction", "no_unit", "no unit"),
        (
            "binomial = \"CaN\", p = -0.5",
            "protocol",
            "prob",
            "binomial p",
        ),
        (
            "observable = \"Nope\"",
            "outcome",
            "ghost",
            "unknown species or observable",
        ),
    ];
    for (d, (marker, kind, item, msg)) in e.diagnostics.iter().zip(expected) {
        check(d, &text, marker, kind, item, &[msg]);
    }
    let lines: Vec<usize> = e.diagnostics.iter().map(|d| d.line).collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "file order: {lines:?}"
    );
    let shown = e.to_string();
    assert!(shown.ends_with("6 problems in the model"), "{shown}");
    assert_eq!(shown.lines().count(), 7, "{shown}");
}

/// SRC BUG: a derived parameter that cannot be evaluated (unknown name, cycle) makes the loader
/// evaluate *every* rate with all parameters set to NaN (`Loader::parameter_values` falls back to
/// `vec![NAN; n]`), so each parameter-dependent rate, even one that does not use the broken
/// parameter, gets a spurious "rate evaluates to NaN" error. Here `decay` uses only `k`.
#[test]

fn broken_parameter_does_not_cascade_into_unrelated_rates() {
    let text = r#"[model]
name = "m"
[[compartments]]
name = "c"
volume = "1 fL"
[[parameters]]
name = "k"
value = "1 /s"
[[parameters]]
name = "broken"
expr = "2 * nope"
[[species]]
name = "A"
initial = 1
[[reactions]]
name = "decay"
equation = "A ->"
rate = "k"
"#;
    expect_error(
        text,
        "expr = \"2 * nope\"",
        "parameter",
        "broken",
        &["unknown name 'nope'"],
    );
}

#[test]
fn untouched_species_is_a_warning() {
    let text = with(
        r#"
[[species]]
name = "Idle"
initial = 4
"#,
    );
    let m = parse_ok(&text);
    assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
    let w = &m.warnings[0];
    assert_eq!(w.file, Path::new(FILE));
    assert_eq!(w.kind, "species");
    assert_eq!(w.item, "Idle");
    assert_eq!(w.line, line_of(&text, "name = \"Idle\""));
    assert!(
        w.message
            .contains("no reaction or protocol action changes it"),
        "{w}"
    );
}

#[test]
fn species_touched_only_by_a_protocol_is_not_a_warning() {
    let text = with(
        r#"
[[species]]
name = "Dye"
initial = 4

[[protocols]]
name = "wash"

[[protocols.events]]
time = "1 s"
actions = [ { remove = "Dye", amount = 2 } ]
"#,
    );
    let m = parse_ok(&text);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn missing_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("does_not_exist.toml");
    let e = load_model(&path).expect_err("a missing file is an error");
    assert_eq!(e.diagnostics.len(), 1);
    let d = e.first();
    assert_eq!(d.file, path);
    assert_eq!(d.line, 0);
    assert!(d.message.contains("cannot read the model"), "{d}");
    let shown = e.to_string();
    assert!(shown.contains("does_not_exist.toml"), "{shown}");
}

#[test]
fn empty_file_is_an_error() {
    let e = errors("");
    assert_eq!(e.diagnostics.len(), 1, "{}", list(&e));
    let d = e.first();
    assert_eq!(d.kind, "toml");
    assert!(d.message.contains("missing field `model`"), "{d}");
}

#[test]
fn missing_model_name_is_an_error() {
    let text = BASE.replacen("name = \"base\"\n", "", 1);
    let e = errors(&text);
    assert_eq!(e.diagnostics.len(), 1, "{}", list(&e));
    let d = e.first();
    assert_eq!(d.kind, "toml");
    assert!(d.message.contains("missing field `name`"), "{d}");
    assert_eq!(d.line, line_of(&text, "[model]"), "{d}");
}

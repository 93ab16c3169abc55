//! `[[include]]` (src/model/include.rs): a composed model equals the hand-merged one, errors
//! keep the file and line they come from, overrides and variants work through includes, and the
//! shipped `spine_ltd_core_release.toml` is its two parts plus the connection.

use std::path::{Path, PathBuf};
use std::process::Command;

use spinesim::model::overrides::{self, Assignment};
use spinesim::model::spec::Amount;
use spinesim::model::{load_model, Model};
use spinesim::network::Network;

use crate::common::shipped_model;

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

/// A presynaptic module: two compartments, a derived parameter, an observable, a protocol with
/// a binomial release and an add, an outcome and a variant.
const PRE: &str = r#"[model]
name = "pre"

[[compartments]]
name = "bouton"
volume = "0.1 fL"

[[compartments]]
name = "cleft"
volume = "0.01 fL"

[[parameters]]
name = "tau"
value = "0.5 s"

[[parameters]]
name = "k_out"
expr = "2 / tau"

[[species]]
name = "Dock"
initial = 5
compartment = "bouton"

[[species]]
name = "Empty"
initial = 0
compartment = "bouton"

[[species]]
name = "GluC"
initial = 0
compartment = "cleft"

[[reactions]]
name = "refill"
equation = "Empty -> Dock"
rate = "1 / tau"

[[reactions]]
name = "clear"
equation = "GluC ->"
rate = "k_out"

[[observables]]
name = "sites"
expr = "Dock + Empty"

[[protocols]]
name = "stim"
t_end = "3 s"

[[protocols.trains]]
start = "1 s"
frequency = "10 Hz"
count = 5
on = [ { binomial = "Dock", p = 0.5, into = "Empty" }, { add = "GluC", amount = "1 uM" } ]

[[outcomes]]
name = "dock_min"
kind = "min"
observable = "Dock"

[variants.slow]
set = { tau = "2 s" }
"#;

/// A postsynaptic model with one compartment (its species do not name it).
const POST: &str = r#"[model]
name = "post"

[[compartments]]
name = "spine"
volume = "0.1 fL"

[[parameters]]
name = "kon"
value = "2 /uM/s"

[[parameters]]
name = "G"
value = "0 uM"

[[species]]
name = "R"
initial = 10

[[species]]
name = "RG"
initial = 0

[[reactions]]
name = "bind"
equation = "R -> RG"
rate = "kon * G"

[[reactions]]
name = "unbind"
equation = "RG -> R"
rate = "3 /s"
"#;

/// The composition: post with its binding step replaced, pre with prefixed names and its cleft
/// glutamate renamed.
const COMBINED: &str = r#"[model]
name = "combined"

[[include]]
file = "post.toml"
connect = ["bind"]

[[include]]
file = "pre.toml"
prefix = "pre_"
rename = { GluC = "Glu" }

[[reactions]]
name = "bind"
equation = "R + Glu -> RG + Glu"
rate = "kon"
compartment = "spine"
"#;

/// The same model written out by hand, items in the merged order (the including file's own, then
/// each include's).
const MERGED: &str = r#"[model]
name = "combined"

[[compartments]]
name = "spine"
volume = "0.1 fL"

[[compartments]]
name = "pre_bouton"
volume = "0.1 fL"

[[compartments]]
name = "pre_cleft"
volume = "0.01 fL"

[[parameters]]
name = "kon"
value = "2 /uM/s"

[[parameters]]
name = "G"
value = "0 uM"

[[parameters]]
name = "pre_tau"
value = "0.5 s"

[[parameters]]
name = "pre_k_out"
expr = "2 / pre_tau"

[[species]]
name = "R"
initial = 10
compartment = "spine"

[[species]]
name = "RG"
initial = 0
compartment = "spine"

[[species]]
name = "pre_Dock"
initial = 5
compartment = "pre_bouton"

[[species]]
name = "pre_Empty"
initial = 0
compartment = "pre_bouton"

[[species]]
name = "Glu"
initial = 0
compartment = "pre_cleft"

[[reactions]]
name = "bind"
equation = "R + Glu -> RG + Glu"
rate = "kon"
compartment = "spine"

[[reactions]]
name = "unbind"
equation = "RG -> R"
rate = "3 /s"

[[reactions]]
name = "pre_refill"
equation = "pre_Empty -> pre_Dock"
rate = "1 / pre_tau"

[[reactions]]
name = "pre_clear"
equation = "Glu ->"
rate = "pre_k_out"

[[observables]]
name = "pre_sites"
expr = "pre_Dock + pre_Empty"

[[protocols]]
name = "pre_stim"
t_end = "3 s"

[[protocols.trains]]
start = "1 s"
frequency = "10 Hz"
count = 5
on = [ { binomial = "pre_Dock", p = 0.5, into = "pre_Empty" }, { add = "Glu", amount = "1 uM" } ]

[[outcomes]]
name = "pre_dock_min"
kind = "min"
observable = "pre_Dock"

[variants.pre_slow]
set = { pre_tau = "2 s" }
"#;

/// Writes `files` into a fresh directory.
fn write(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn load(path: &Path) -> Model {
    load_model(path).unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()))
}

fn load_err(path: &Path) -> String {
    match load_model(path) {
        Ok(_) => panic!("{} loads but should not", path.display()),
        Err(e) => e.to_string(),
    }
}

/// Everything the simulator reads, by name: species (name, compartment volume, initial count),
/// channels (name, net change by species name, stochastic constant), parameters, and the
/// model's observables, protocols, outcomes, variants and record.
fn same_model(a: &Model, b: &Model) {
    let (na, nb) = (Network::compile(a), Network::compile(b));
    let species = |m: &Model| {
        m.species
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    m.compartments[s.compartment].volume_fl,
                    s.initial,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(species(a), species(b));
    assert_eq!(na.channel_names(), nb.channel_names());
    let changes = |m: &Model| {
        m.reactions
            .iter()
            .map(|r| r.net_change())
            .collect::<Vec<_>>()
    };
    assert_eq!(changes(a), changes(b));
    let (sa, sb) = (na.initial_state(), nb.initial_state());
    assert_eq!(sa.constants, sb.constants);
    assert_eq!(sa.params, sb.params);
    assert_eq!(sa.counts, sb.counts);
    assert_eq!(a.parameters, b.parameters);
    assert_eq!(a.observables, b.observables);
    assert_eq!(a.protocols, b.protocols);
    assert_eq!(a.outcomes, b.outcomes);
    assert_eq!(a.variants, b.variants);
    assert_eq!(a.record, b.record);
}

/// `spinesim check` output without its first line (which names the file).
fn check_output(path: &Path) -> String {
    let out = Command::new(BIN)
        .args(["check".as_ref(), path.as_os_str()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().skip(1).collect::<Vec<_>>().join("\n")
}

#[test]
fn combined_model_equals_the_hand_merged_one() {
    let dir = write(&[
        ("pre.toml", PRE),
        ("post.toml", POST),
        ("combined.toml", COMBINED),
        ("merged.toml", MERGED),
    ]);
    let combined = load(&dir.path().join("combined.toml"));
    let merged = load(&dir.path().join("merged.toml"));
    same_model(&combined, &merged);
    assert_eq!(
        check_output(&dir.path().join("combined.toml")),
        check_output(&dir.path().join("merged.toml"))
    );
}

/// `--set` and variants re-read the files: an override of a name from an included file, and
/// an included variant, give the same model as the hand-merged file with the same change.
#[test]
fn overrides_and_variants_work_through_includes() {
    let dir = write(&[
        ("pre.toml", PRE),
        ("post.toml", POST),
        ("combined.toml", COMBINED),
        ("merged.toml", MERGED),
    ]);
    let combined = load(&dir.path().join("combined.toml"));
    let merged = load(&dir.path().join("merged.toml"));
    let set = |name: &str, value: Amount| Assignment {
        name: name.into(),
        value,
        origin: "--set".into(),
        clamp: false,
    };
    let changes = [
        set("pre_tau", Amount::Text("2 s".into())),
        set("pre_cleft", Amount::Text("0.02 fL".into())),
        set("R", Amount::Int(20)),
    ];
    let (a, _) = overrides::apply(&combined, &changes).unwrap();
    let (b, _) = overrides::apply(&merged, &changes).unwrap();
    same_model(&a, &b);
    // The override took effect: the cleft constant of `bind` halves with twice the volume.
    let c = |m: &Model| Network::compile(m).initial_state().constants[0];
    assert!((c(&a) / c(&combined) - 0.5).abs() < 1e-12);
    let variant = overrides::variant_assignments(&combined, &["pre_slow".into()]).unwrap();
    let (v, _) = overrides::apply(&combined, &variant).unwrap();
    let (w, _) = overrides::apply(&combined, &changes[..1]).unwrap();
    same_model(&v, &w);
}

/// Problems in an included file name that file and line; clashes name both files and lines;
/// a bad include names the including file's line.
#[test]
fn include_errors_are_located() {
    // A wrong unit on line 21 of pre.toml (the `value` of `tau`).
    let bad_pre = PRE.replace("value = \"0.5 s\"", "value = \"0.5 uM\"");
    let bad_rate = PRE.replace("rate = \"k_out\"", "rate = \"k_outt\"");
    // Without the prefix, an own parameter `tau` clashes with pre.toml's.
    let clash = COMBINED.replace("prefix = \"pre_\"\n", "")
        + "\n[[parameters]]\nname = \"tau\"\nvalue = \"1 s\"\n";
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "an error inside the included file",
            COMBINED.to_string(),
            vec![format!("pre.toml:{}: reaction 'pre_refill'", line_of(PRE, "rate = \"1 / tau\""))],
        ),
        (
            "a clash of names",
            clash.clone(),
            vec![
                format!(
                    "pre.toml:{}: include 'tau': parameter 'tau' of",
                    line_of(PRE, "name = \"tau\"")
                ),
                "clashes with the parameter 'tau' declared at".into(),
                format!("combined.toml:{};", line_of(&clash, "name = \"tau\"")),
            ],
        ),
        (
            "an unknown name to rename",
            COMBINED.replace("GluC = \"Glu\"", "GluX = \"Glu\""),
            vec![format!(
                "combined.toml:{}: include 'GluX': is not declared in pre.toml; did you mean 'GluC'?",
                line_of(COMBINED, "rename =")
            )],
        ),
        (
            "a missing file",
            COMBINED.replace("file = \"pre.toml\"", "file = \"missing.toml\""),
            vec![format!(
                "combined.toml:{}: include 'missing.toml': cannot read",
                line_of(COMBINED, "file = \"pre.toml\"")
            )],
        ),
        (
            "a connection of different kinds",
            COMBINED.replace("connect = [\"bind\"]", "connect = [\"bind\", \"R\"]")
                + "\n[[parameters]]\nname = \"R\"\nvalue = \"1 uM\"\n",
            vec!["connects a species of".into(), "to a parameter of".into()],
        ),
        (
            "an unknown name in an included rate",
            COMBINED.to_string(),
            vec![format!(
                "pre.toml:{}: reaction 'pre_clear': rate uses unknown parameter 'k_outt'",
                line_of(PRE, "rate = \"k_out\"")
            )],
        ),
    ];
    for (i, (what, combined, expected)) in cases.into_iter().enumerate() {
        // Case 0 breaks the unit of tau in pre.toml; case 5 misspells a rate there.
        let pre = match i {
            0 => bad_pre.clone(),
            5 => bad_rate.clone(),
            _ => PRE.to_string(),
        };
        let dir = write(&[
            ("pre.toml", &pre),
            ("post.toml", POST),
            ("combined.toml", &combined),
        ]);
        let err = load_err(&dir.path().join("combined.toml"));
        for e in expected {
            assert!(err.contains(&e), "{what}: expected '{e}' in:\n{err}");
        }
    }
    // An SBML file.
    let dir = write(&[
        (
            "b.toml",
            "[model]\nname = \"b\"\n[[include]]\nfile = \"m.xml\"\n",
        ),
        ("m.xml", "<?xml version=\"1.0\"?>\n<sbml></sbml>\n"),
    ]);
    let err = load_err(&dir.path().join("b.toml"));
    assert!(
        err.contains("b.toml:4: include 'm.xml'") && err.contains("is SBML"),
        "{err}"
    );
    // A cycle.
    let dir = write(&[(
        "a.toml",
        "[model]\nname = \"a\"\n[[include]]\nfile = \"a.toml\"\n",
    )]);
    let err = load_err(&dir.path().join("a.toml"));
    assert!(
        err.contains("a.toml:4: include 'a.toml'") && err.contains("cycle"),
        "{err}"
    );
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// The shipped composition is spine_ltd_core plus release_std: every other channel has its
/// constant and change in the part it comes from, the two binding steps read the cleft
/// glutamate (c = kon_glu / NAV_cleft per receptor and molecule), and the protocols release.
#[test]
fn shipped_composition_is_its_parts() {
    let composed = shipped_model("spine_ltd_core_release.toml");
    let spine = shipped_model("spine_ltd_core.toml");
    let release = shipped_model("release_std.toml");
    let net = Network::compile(&composed);
    let constants = net.initial_state().constants;
    let named_change = |m: &Model, r: usize| {
        m.reactions[r]
            .net_change()
            .into_iter()
            .map(|(s, d)| (m.species[s].name.clone(), d))
            .collect::<Vec<_>>()
    };
    let mut replaced = Vec::new();
    for part in [&spine, &release] {
        let part_constants = Network::compile(part).initial_state().constants;
        for (r, reaction) in part.reactions.iter().enumerate() {
            let k = composed
                .reactions
                .iter()
                .position(|x| x.name == reaction.name)
                .unwrap_or_else(|| panic!("{} missing", reaction.name));
            if reaction.name.starts_with("A1_") || reaction.name.starts_with("A3_") {
                replaced.push(k);
                continue;
            }
            assert_eq!(named_change(part, r), named_change(&composed, k));
            assert_eq!(part_constants[r], constants[k], "{}", reaction.name);
        }
    }
    assert_eq!(replaced.len(), 2);
    assert_eq!(
        composed.reactions.len(),
        spine.reactions.len() + release.reactions.len()
    );
    let nav_cleft = composed
        .compartments
        .iter()
        .find(|c| c.name == "cleft")
        .unwrap()
        .molecules_per_micromolar();
    for k in replaced {
        assert!((constants[k] - 5.0 / nav_cleft).abs() < 1e-12 * constants[k]);
        let reads: Vec<&str> = composed.reactions[k]
            .reactants
            .iter()
            .map(|&(s, _)| composed.species[s].name.as_str())
            .collect();
        assert!(reads.contains(&"Glu"), "{reads:?}");
    }
    for p in ["lfs_1hz", "hfs_100hz"] {
        let protocol = composed.protocol(p).unwrap();
        assert!(protocol.trains[0]
            .on
            .iter()
            .any(|a| matches!(a, spinesim::model::Action::Binomial { .. })));
    }
    let path: PathBuf = composed.path.clone();
    assert!(path.ends_with("spine_ltd_core_release.toml"));
}

/// The run's model hash covers the included files: after an included file changes, `--resume`
/// of a run of the including model is refused instead of mixing two models' results.
#[test]
fn resume_refuses_a_run_whose_included_file_changed() {
    let dir = write(&[
        ("pre.toml", PRE),
        ("post.toml", POST),
        ("combined.toml", COMBINED),
    ]);
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .current_dir(dir.path())
            .args([
                "run",
                "combined.toml",
                "--runs",
                "2",
                "--t-end",
                "1",
                "--out",
                "out",
                "--quiet",
            ])
            .args(extra)
            .output()
            .expect("spinesim runs")
    };
    let first = run(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Unchanged files: resuming a complete run is accepted.
    let again = run(&["--resume"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    std::fs::write(
        dir.path().join("pre.toml"),
        PRE.replace("value = \"0.5 s\"", "value = \"0.6 s\""),
    )
    .unwrap();
    let changed = run(&["--resume"]);
    let err = String::from_utf8_lossy(&changed.stderr);
    assert!(!changed.status.success(), "resumed a run of another model");
    assert!(err.contains("different run"), "{err}");
}

//! Sweeps: axes of values (`--sweep NAME=...`, `--sweep-file FILE.toml`) and the sweep points
//! of their cartesian product.
//!
//! An axis is `protocol` (protocol names), `variant` (variant names; `control` is no variant,
//! `a+b` applies both) or a parameter, species or compartment name with values written as in
//! the model file. Value syntax:
//!
//! - a list `v1,v2,...` — each value a number or a quantity (`k=1 1/s,2.5 1/s`); when only the
//!   last value has a unit, that unit applies to all (`CaN=0.5,1,2 uM`);
//! - `lin:A:B:N[ UNIT]` — N evenly spaced values from A to B (both included);
//! - `log:A:B:N[ UNIT]` — N values evenly spaced in log from A to B (A, B > 0).
//!
//! Range values are rounded to 12 significant digits, and the rounded value is the one applied.
//!
//! Points are numbered `sweep_id = 0, 1, ...` in row-major order: the first axis varies slowest.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use crate::model::overrides::amount_text;
use crate::model::spec::Amount;

/// What an axis varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisKind {
    /// The protocol name.
    Protocol,
    /// A variant name (`control` = none; `a+b` = both, in that order).
    Variant,
    /// A parameter value, species initial amount or compartment volume.
    Value,
}

/// One sweep axis: a name and the values it takes, as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// `protocol`, `variant` or a model name.
    pub name: String,
    /// What it varies.
    pub kind: AxisKind,
    /// Values as they would be written in the model file (`"0.5 uM"`, `"30"`, `"lfs_1hz"`).
    pub values: Vec<String>,
}

impl Axis {
    fn new(name: &str, values: Vec<String>) -> Result<Axis, String> {
        let kind = match name {
            "protocol" => AxisKind::Protocol,
            "variant" => AxisKind::Variant,
            _ => AxisKind::Value,
        };
        if values.is_empty() {
            return Err(format!("sweep of '{name}' has no values"));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(format!("sweep of '{name}' lists '{v}' twice"));
            }
        }
        Ok(Axis {
            name: name.to_string(),
            kind,
            values,
        })
    }
}

/// Parses `--sweep NAME=SPEC` (see the module documentation for SPEC).
pub fn parse_axis(arg: &str) -> Result<Axis, String> {
    let Some((name, spec)) = arg.split_once('=') else {
        return Err(format!(
            "--sweep '{arg}': expected NAME=v1,v2,... or NAME=lin:A:B:N or NAME=log:A:B:N"
        ));
    };
    let (name, spec) = (name.trim(), spec.trim());
    if name.is_empty() || spec.is_empty() {
        return Err(format!("--sweep '{arg}': expected NAME=VALUES"));
    }
    let values = parse_values(name, spec).map_err(|e| format!("--sweep '{arg}': {e}"))?;
    Axis::new(name, values)
}

fn is_name_axis(name: &str) -> bool {
    matches!(name, "protocol" | "variant")
}

/// The values of one axis from its SPEC text.
fn parse_values(name: &str, spec: &str) -> Result<Vec<String>, String> {
    if let Some(kind) = ["lin:", "log:"].into_iter().find(|p| spec.starts_with(p)) {
        if is_name_axis(name) {
            return Err(format!("{name} takes names, not a {kind} range"));
        }
        return range_values(&kind[..3], &spec[4..]);
    }
    let items: Vec<&str> = spec.split(',').map(str::trim).collect();
    if items.iter().any(|i| i.is_empty()) {
        return Err("an empty value in the list".into());
    }
    if is_name_axis(name) {
        return Ok(items.iter().map(|s| s.to_string()).collect());
    }
    let is_number = |s: &str| s.parse::<f64>().is_ok();
    let last = items[items.len() - 1];
    let shared_unit = match last.split_once(char::is_whitespace) {
        Some((number, unit))
            if is_number(number) && items[..items.len() - 1].iter().all(|s| is_number(s)) =>
        {
            Some(unit.trim())
        }
        _ => None,
    };
    Ok(match shared_unit {
        Some(unit) => items
            .iter()
            .map(|s| {
                let number = s.split_whitespace().next().unwrap_or(s);
                format!("{number} {unit}")
            })
            .collect(),
        None => items.iter().map(|s| s.to_string()).collect(),
    })
}

/// `A:B:N[ UNIT]` for `lin` or `log`.
fn range_values(kind: &str, rest: &str) -> Result<Vec<String>, String> {
    let (numbers, unit) = match rest.trim().split_once(char::is_whitespace) {
        Some((n, u)) => (n, Some(u.trim())),
        None => (rest.trim(), None),
    };
    let parts: Vec<&str> = numbers.split(':').collect();
    let bad = || format!("expected {kind}:A:B:N with numbers A, B and a count N >= 2");
    if parts.len() != 3 {
        return Err(bad());
    }
    let a: f64 = parts[0].parse().map_err(|_| bad())?;
    let b: f64 = parts[1].parse().map_err(|_| bad())?;
    let n: usize = parts[2].parse().map_err(|_| bad())?;
    if n < 2 || !a.is_finite() || !b.is_finite() {
        return Err(bad());
    }
    if kind == "log" && (a <= 0.0 || b <= 0.0) {
        return Err(format!("log:{numbers}: A and B must be positive"));
    }
    let step = (n - 1) as f64;
    let value = |i: usize| -> f64 {
        if i == 0 {
            a
        } else if i == n - 1 {
            b
        } else if kind == "lin" {
            a + (b - a) * (i as f64 / step)
        } else {
            10f64.powf(a.log10() + (b.log10() - a.log10()) * (i as f64 / step))
        }
    };
    // 12 significant digits: the value as text is what is applied, so keep it readable.
    let value = |i: usize| -> f64 {
        format!("{:.11e}", value(i))
            .parse()
            .expect("a formatted float parses")
    };
    Ok((0..n)
        .map(|i| match unit {
            Some(u) => format!("{:?} {u}", value(i)),
            None => format!("{:?}", value(i)),
        })
        .collect())
}

/// A sweep design file: `[sweep]` with one key per axis, in file order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignFile {
    sweep: BTreeMap<Spanned<String>, Spanned<AxisSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AxisSpec {
    List(Vec<Amount>),
    Spec(String),
}

/// Reads the axes of a sweep design file (`--sweep-file`):
///
/// ```toml
/// [sweep]
/// protocol = ["lfs_1hz", "tbs"]
/// kcat_CaN = ["1 1/s", "2 1/s"]
/// spine = "log:0.03:0.5:5 fL"
/// ```
pub fn parse_design_file(path: &Path) -> Result<Vec<Axis>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the sweep file: {e}", path.display()))?;
    let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let design: DesignFile = toml::from_str(&text).map_err(|e| {
        let l = e.span().map_or(0, |s| line(s.start));
        format!("{}:{l}: {}", path.display(), e.message().trim())
    })?;
    let mut entries: Vec<_> = design.sweep.into_iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut axes = Vec::new();
    for (name, spec) in entries {
        let at = format!("{}:{}", path.display(), line(name.span().start));
        let values = match spec.get_ref() {
            AxisSpec::Spec(s) => parse_values(name.get_ref(), s),
            AxisSpec::List(items) => Ok(items.iter().map(amount_text).collect()),
        }
        .map_err(|e| format!("{at}: sweep '{}': {e}", name.get_ref()))?;
        axes.push(Axis::new(name.get_ref(), values).map_err(|e| format!("{at}: {e}"))?);
    }
    if axes.is_empty() {
        return Err(format!("{}: [sweep] has no axes", path.display()));
    }
    Ok(axes)
}

/// The cartesian product of `axes`: one value index per axis for each point, first axis
/// slowest. No axes give one point.
pub fn points(axes: &[Axis]) -> Vec<Vec<usize>> {
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    (0..total)
        .map(|mut k| {
            let mut idx = vec![0; axes.len()];
            for (i, a) in axes.iter().enumerate().rev() {
                idx[i] = k % a.values.len();
                k /= a.values.len();
            }
            idx
        })
        .collect()
}

/// Checks that axes have distinct names.
pub fn check_distinct(axes: &[Axis]) -> Result<(), String> {
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.name == a.name) {
            return Err(format!("'{}' is swept twice", a.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_ranges_and_units() {
        let a = parse_axis("CaN=0.5,1,2 uM").unwrap();
        assert_eq!(a.values, ["0.5 uM", "1 uM", "2 uM"]);
        let a = parse_axis("k=1 1/s,2.5 1/s").unwrap();
        assert_eq!(a.values, ["1 1/s", "2.5 1/s"]);
        let a = parse_axis("N=10,20").unwrap();
        assert_eq!(a.values, ["10", "20"]);
        let a = parse_axis("spine=log:0.01:1:3 fL").unwrap();
        assert_eq!(a.values, ["0.01 fL", "0.1 fL", "1.0 fL"]);
        let a = parse_axis("x=lin:0:1:5").unwrap();
        assert_eq!(a.values, ["0.0", "0.25", "0.5", "0.75", "1.0"]);
        let a = parse_axis("variant=control,fk506").unwrap();
        assert_eq!(a.kind, AxisKind::Variant);
        assert!(parse_axis("x=lin:0:1:1").is_err());
        assert!(parse_axis("x=log:0:1:3").is_err());
        assert!(parse_axis("x=1,,2").is_err());
        assert!(parse_axis("x=1,1").is_err());
        assert!(parse_axis("protocol=lin:0:1:3").is_err());
    }

    #[test]
    fn points_are_row_major() {
        let a = Axis::new("a", vec!["1".into(), "2".into()]).unwrap();
        let b = Axis::new("b", vec!["x".into(), "y".into(), "z".into()]).unwrap();
        let p = points(&[a, b]);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], [0, 0]);
        assert_eq!(p[1], [0, 1]);
        assert_eq!(p[3], [1, 0]);
        assert_eq!(points(&[]), vec![Vec::<usize>::new()]);
    }
}

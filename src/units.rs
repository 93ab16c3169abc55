//! Physical units: parsing quantities such as `"50 nM"` or `"247 /uM/s"` into canonical units.
//!
//! Canonical units are s (time), µM (concentration), mV (voltage) and fL = µm³ (volume).
//! Counts (`molecules`, `ions`, `count`) are dimensionless; `Hz` is 1/s.

use std::fmt;

/// Avogadro's number (1/mol).
pub const AVOGADRO: f64 = 6.02214076e23;

/// Exponents of the base dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Dim {
    /// Exponent of time (s).
    pub time: i8,
    /// Exponent of concentration (µM).
    pub conc: i8,
    /// Exponent of voltage (mV).
    pub voltage: i8,
    /// Exponent of volume (fL).
    pub volume: i8,
}

impl Dim {
    /// Dimensionless.
    pub const NONE: Dim = Dim {
        time: 0,
        conc: 0,
        voltage: 0,
        volume: 0,
    };
    /// Time (s).
    pub const TIME: Dim = Dim {
        time: 1,
        ..Dim::NONE
    };
    /// Concentration (µM).
    pub const CONC: Dim = Dim {
        conc: 1,
        ..Dim::NONE
    };
    /// Voltage (mV).
    pub const VOLTAGE: Dim = Dim {
        voltage: 1,
        ..Dim::NONE
    };
    /// Volume (fL).
    pub const VOLUME: Dim = Dim {
        volume: 1,
        ..Dim::NONE
    };

    fn zip(self, o: Dim, f: impl Fn(i8, i8) -> i8) -> Dim {
        Dim {
            time: f(self.time, o.time),
            conc: f(self.conc, o.conc),
            voltage: f(self.voltage, o.voltage),
            volume: f(self.volume, o.volume),
        }
    }

    /// The dimension of a product.
    // Named methods rather than operator overloads: a `Dim` is a unit, not a number.
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, o: Dim) -> Dim {
        self.zip(o, i8::saturating_add)
    }

    /// The dimension of a quotient.
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, o: Dim) -> Dim {
        self.zip(o, i8::saturating_sub)
    }

    /// The dimension raised to an integer power.
    pub fn powi(self, n: i8) -> Dim {
        self.zip(Dim::NONE, |a, _| a.saturating_mul(n))
    }

    /// True if dimensionless.
    pub fn is_none(self) -> bool {
        self == Dim::NONE
    }

    /// Dimension of a mass-action rate constant of the given reaction order: conc^(1-order) / time.
    pub fn rate_of_order(order: u32) -> Dim {
        let conc = 1 - i8::try_from(order).unwrap_or(i8::MAX);
        Dim::CONC.powi(conc).div(Dim::TIME)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("1 (dimensionless)");
        }
        let parts = [
            ("uM", self.conc),
            ("mV", self.voltage),
            ("fL", self.volume),
            ("s", self.time),
        ];
        let join = |positive: bool| {
            let factors: Vec<String> = parts
                .iter()
                .filter(|(_, e)| if positive { *e > 0 } else { *e < 0 })
                .map(|&(u, e)| match e.unsigned_abs() {
                    1 => u.to_string(),
                    n => format!("{u}^{n}"),
                })
                .collect();
            (factors.len(), factors.join("*"))
        };
        let (n_num, num) = join(true);
        let (n_den, den) = join(false);
        match (n_num, n_den) {
            (_, 0) => f.write_str(&num),
            (0, 1) => write!(f, "1/{den}"),
            (0, _) => write!(f, "1/({den})"),
            (_, 1) => write!(f, "{num}/{den}"),
            _ => write!(f, "{num}/({den})"),
        }
    }
}

/// A value in canonical units with its dimension.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantity {
    /// The value in canonical units (s, µM, mV, fL).
    pub value: f64,
    /// Its dimension.
    pub dim: Dim,
}

/// An error in a quantity or unit string.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// An unknown unit name.
    #[error("unknown unit \"{0}\" (known: s, ms, us, min, h, Hz, M, mM, uM, nM, pM, mV, V, fL, um^3, L, mL, uL, nL, pL, molecules, ions, count)")]
    UnknownUnit(String),
    /// The quantity does not start with a number.
    #[error("missing number in \"{0}\" (write e.g. \"50 nM\")")]
    MissingNumber(String),
    /// The number is infinite or NaN.
    #[error("number \"{0}\" is not finite")]
    NonFinite(String),
    /// A `^` not followed by an integer.
    #[error("bad exponent after \"{0}\": expected an integer such as ^-1 or ^3")]
    BadExponent(String),
    /// `um` or `µm` without `^3`.
    #[error("{0} must be cubed ({0}^3)")]
    LengthNotCubed(String),
    /// Parentheses that do not match.
    #[error("unbalanced parentheses in unit \"{0}\"")]
    UnbalancedParens(String),
    /// An operator or the end of text where a unit was expected.
    #[error("missing unit in \"{0}\"")]
    MissingUnit(String),
    /// Characters that cannot continue the unit.
    #[error("unexpected \"{0}\" in unit")]
    Trailing(String),
}

fn atom(name: &str) -> Option<(f64, Dim)> {
    let hz = Dim::NONE.div(Dim::TIME);
    let micro = name.strip_prefix(['µ', 'μ']).map(|rest| format!("u{rest}"));
    let (factor, dim) = match micro.as_deref().unwrap_or(name) {
        "s" => (1.0, Dim::TIME),
        "ms" => (1e-3, Dim::TIME),
        "us" => (1e-6, Dim::TIME),
        "min" => (60.0, Dim::TIME),
        "h" => (3600.0, Dim::TIME),
        "Hz" => (1.0, hz),
        "M" => (1e6, Dim::CONC),
        "mM" => (1e3, Dim::CONC),
        "uM" => (1.0, Dim::CONC),
        "nM" => (1e-3, Dim::CONC),
        "pM" => (1e-6, Dim::CONC),
        "mV" => (1.0, Dim::VOLTAGE),
        "V" => (1e3, Dim::VOLTAGE),
        "L" => (1e15, Dim::VOLUME),
        "mL" => (1e12, Dim::VOLUME),
        "uL" => (1e9, Dim::VOLUME),
        "nL" => (1e6, Dim::VOLUME),
        "pL" => (1e3, Dim::VOLUME),
        "fL" => (1.0, Dim::VOLUME),
        "molecules" | "molecule" | "ions" | "ion" | "count" => (1.0, Dim::NONE),
        _ => return None,
    };
    Some((factor, dim))
}

/// Recursive-descent parser over the characters of a unit expression.
struct UnitParser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl UnitParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// product := ['/'] factor ((['*' | '·'] | '/') factor)*, up to ')' or the end.
    fn product(&mut self) -> Result<(f64, Dim), UnitError> {
        let (mut factor, mut dim) = (1.0, Dim::NONE);
        let mut first = true;
        loop {
            self.skip_ws();
            let divide = match self.peek() {
                None | Some(')') if !first => return Ok((factor, dim)),
                Some('*' | '·') if !first => {
                    self.pos += 1;
                    false
                }
                Some('/') => {
                    self.pos += 1;
                    true
                }
                _ => false,
            };
            self.skip_ws();
            let (f, d) = self.factor()?;
            if divide {
                factor /= f;
                dim = dim.div(d);
            } else {
                factor *= f;
                dim = dim.mul(d);
            }
            first = false;
        }
    }

    /// factor := (atom | '1' | '(' product ')') ['^' integer]
    fn factor(&mut self) -> Result<(f64, Dim), UnitError> {
        let start = self.pos;
        let (name, base) = match self.peek() {
            Some('(') => {
                self.pos += 1;
                let inner = self.product()?;
                if self.peek() != Some(')') {
                    return Err(UnitError::UnbalancedParens(self.text.to_string()));
                }
                self.pos += 1;
                (String::from("(...)"), Some(inner))
            }
            Some('1') => {
                self.pos += 1;
                ("1".to_string(), Some((1.0, Dim::NONE)))
            }
            Some(c) if c.is_alphabetic() => {
                while self.peek().is_some_and(char::is_alphabetic) {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                let base = atom(&name);
                (name, base)
            }
            Some(')') => return Err(UnitError::UnbalancedParens(self.text.to_string())),
            Some(c) => return Err(UnitError::Trailing(c.to_string())),
            None => return Err(UnitError::MissingUnit(self.text.to_string())),
        };
        let power = self.exponent(&name)?;
        let is_length = matches!(name.as_str(), "um" | "µm" | "μm");
        match (base, power) {
            (Some((f, d)), n) => Ok((f.powi(n.into()), d.powi(n))),
            (None, n) if is_length && n != 0 && n % 3 == 0 => Ok((1.0, Dim::VOLUME.powi(n / 3))),
            (None, _) if is_length => Err(UnitError::LengthNotCubed(name)),
            (None, _) => Err(UnitError::UnknownUnit(name)),
        }
    }

    /// An optional `^ [+-] digits`; 1 when absent.
    fn exponent(&mut self, name: &str) -> Result<i8, UnitError> {
        if self.peek() != Some('^') {
            return Ok(1);
        }
        self.pos += 1;
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        digits
            .parse::<i8>()
            .ok()
            .filter(|n| n.abs() <= 9)
            .ok_or_else(|| UnitError::BadExponent(name.to_string()))
    }
}

/// Parses a unit expression alone ("uM^-1 s^-1", "/uM/s", "1/(uM*s)", "ions/ms", "um^3", "µm^3", "µM") into (factor to canonical, dimension).
pub fn parse_unit(text: &str) -> Result<(f64, Dim), UnitError> {
    let mut parser = UnitParser {
        text,
        chars: text.chars().collect(),
        pos: 0,
    };
    let result = parser.product()?;
    // `product` stops only at the end or at a ')' that closes nothing.
    match parser.peek() {
        None => Ok(result),
        Some(_) => Err(UnitError::UnbalancedParens(text.to_string())),
    }
}

/// Length in bytes of the float literal at the start of `text` (sign, digits, fraction, exponent).
pub(crate) fn number_len(text: &str) -> usize {
    let b = text.as_bytes();
    let digits_from = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_end = digits_from(i);
    let mut end = int_end;
    if b.get(end) == Some(&b'.') {
        end = digits_from(end + 1);
    }
    if end == i || (end == int_end + 1 && int_end == i) {
        return 0; // no digits at all
    }
    i = end;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let j = i + 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let k = digits_from(j);
        if k > j {
            end = k;
        }
    }
    end
}

/// Parses "0.1 fL", "50 nM", "-65 mV", "247 /uM/s", "1e-3 uM^-1 s^-1", "2.5 1/(uM*s)", "100 uM/s", "1 Hz", "900 s", "0.5 min", "3" (dimensionless), "40 molecules".
pub fn parse_quantity(text: &str) -> Result<Quantity, UnitError> {
    let text = text.trim();
    let len = number_len(text);
    let number: f64 = text[..len]
        .parse()
        .map_err(|_| UnitError::MissingNumber(text.to_string()))?;
    if !number.is_finite() {
        return Err(UnitError::NonFinite(text[..len].to_string()));
    }
    let unit = text[len..].trim();
    let (factor, dim) = if unit.is_empty() {
        (1.0, Dim::NONE)
    } else {
        parse_unit(unit)?
    };
    Ok(Quantity {
        value: number * factor,
        dim,
    })
}

/// Molecules per µM in a compartment of `volume_fl` femtolitres: `6.02214076e23 × V[L] × 1e-6` (0.1 fL → 60.2214076).
pub fn molecules_per_micromolar(volume_fl: f64) -> f64 {
    AVOGADRO * volume_fl * 1e-15 * 1e-6
}

#[cfg(test)]
mod tests {
    use super::*;

    const PER_S: Dim = Dim {
        time: -1,
        conc: 0,
        voltage: 0,
        volume: 0,
    };
    const UM_PER_S: Dim = Dim {
        time: -1,
        conc: 1,
        voltage: 0,
        volume: 0,
    };
    const PER_UM_S: Dim = Dim {
        time: -1,
        conc: -1,
        voltage: 0,
        volume: 0,
    };

    #[test]
    fn quantities() {
        let cases = [
            ("0.1 fL", 0.1, Dim::VOLUME),
            ("0.1 um^3", 0.1, Dim::VOLUME),
            ("0.1 µm^3", 0.1, Dim::VOLUME),
            ("1 L", 1e15, Dim::VOLUME),
            ("2 pL", 2e3, Dim::VOLUME),
            ("50 nM", 0.05, Dim::CONC),
            ("50nM", 0.05, Dim::CONC),
            ("1 M", 1e6, Dim::CONC),
            ("3 µM", 3.0, Dim::CONC),
            ("3 μM", 3.0, Dim::CONC),
            ("247 /uM/s", 247.0, PER_UM_S),
            ("247 uM^-1 s^-1", 247.0, PER_UM_S),
            ("1e-3 uM^-1*s^-1", 1e-3, PER_UM_S),
            ("2.5 1/(uM*s)", 2.5, PER_UM_S),
            ("2.5 1/(uM·s)", 2.5, PER_UM_S),
            ("1e8 1/(M*s)", 100.0, PER_UM_S),
            ("64 ions/ms", 64000.0, PER_S),
            ("100 uM/s", 100.0, UM_PER_S),
            ("7.17 mM/s", 7170.0, UM_PER_S),
            ("1 Hz", 1.0, PER_S),
            ("-65 mV", -65.0, Dim::VOLTAGE),
            ("1 V", 1000.0, Dim::VOLTAGE),
            ("900 s", 900.0, Dim::TIME),
            ("0.5 min", 30.0, Dim::TIME),
            ("2 min", 120.0, Dim::TIME),
            ("1 h", 3600.0, Dim::TIME),
            ("20 us", 2e-5, Dim::TIME),
            ("3", 3.0, Dim::NONE),
            ("+.5", 0.5, Dim::NONE),
            ("40 molecules", 40.0, Dim::NONE),
            (
                "1 /(uM^2 s)",
                1.0,
                Dim {
                    time: -1,
                    conc: -2,
                    voltage: 0,
                    volume: 0,
                },
            ),
            ("1 (uM/s)^2", 1.0, UM_PER_S.powi(2)),
        ];
        for (text, value, dim) in cases {
            let q = parse_quantity(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                (q.value - value).abs() <= 1e-12 * value.abs(),
                "{text}: {}",
                q.value
            );
            assert_eq!(q.dim, dim, "{text}");
        }
    }

    #[test]
    fn display() {
        assert_eq!(Dim::NONE.to_string(), "1 (dimensionless)");
        assert_eq!(PER_S.to_string(), "1/s");
        assert_eq!(UM_PER_S.to_string(), "uM/s");
        assert_eq!(PER_UM_S.to_string(), "1/(uM*s)");
        assert_eq!(Dim::VOLTAGE.to_string(), "mV");
        assert_eq!(Dim::rate_of_order(3).to_string(), "1/(uM^2*s)");
        assert_eq!(Dim::CONC.powi(2).mul(Dim::VOLUME).to_string(), "uM^2*fL");
        assert_eq!(Dim::rate_of_order(0), UM_PER_S);
        assert_eq!(Dim::rate_of_order(1), PER_S);
        assert_eq!(Dim::rate_of_order(2), PER_UM_S);
    }

    #[test]
    fn errors() {
        let err = |t: &str| parse_quantity(t).unwrap_err();
        assert_eq!(err("1 uMM"), UnitError::UnknownUnit("uMM".into()));
        assert!(err("1 uMM")
            .to_string()
            .starts_with("unknown unit \"uMM\" (known: s, ms"));
        assert!(matches!(err("uM"), UnitError::MissingNumber(_)));
        assert!(matches!(err(""), UnitError::MissingNumber(_)));
        assert!(matches!(err("inf s"), UnitError::MissingNumber(_)));
        assert!(matches!(err("1e999 s"), UnitError::NonFinite(_)));
        assert!(matches!(err("1 uM^x"), UnitError::BadExponent(_)));
        assert!(matches!(err("1 uM^"), UnitError::BadExponent(_)));
        assert!(matches!(err("1 1/(uM*s"), UnitError::UnbalancedParens(_)));
        assert!(matches!(err("1 uM)"), UnitError::UnbalancedParens(_)));
        assert_eq!(err("1 um").to_string(), "um must be cubed (um^3)");
        assert!(matches!(err("1 um^2"), UnitError::LengthNotCubed(_)));
        assert!(matches!(err("1 uM/"), UnitError::MissingUnit(_)));
        assert!(matches!(err("1 uM 2"), UnitError::Trailing(_)));
        assert!(matches!(err("1 uM $"), UnitError::Trailing(_)));
        assert!(matches!(parse_unit(""), Err(UnitError::MissingUnit(_))));
    }

    #[test]
    fn units_alone() {
        assert_eq!(parse_unit("µM"), Ok((1.0, Dim::CONC)));
        assert_eq!(parse_unit("um^3"), Ok((1.0, Dim::VOLUME)));
        assert_eq!(parse_unit("/uM/s"), parse_unit("uM^-1 s^-1"));
        assert_eq!(parse_unit("ions/ms"), Ok((1e3, PER_S)));
    }

    #[test]
    fn nav() {
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(molecules_per_micromolar(0.1), 60.2214076) < 1e-12);
        assert!(rel(molecules_per_micromolar(1.0), 602.214076) < 1e-12);
    }
}

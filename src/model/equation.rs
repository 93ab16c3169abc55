//! Reaction equations: `"Ca + CaM0 <-> CaM1"`, `"2 A -> A2"`, `"-> Ca"`, `"X ->"`.

/// One side of an equation: species names with their stoichiometric coefficients, merged.
pub type Side = Vec<(String, u32)>;

/// A parsed equation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    /// Left-hand side.
    pub reactants: Side,
    /// Right-hand side.
    pub products: Side,
    /// `<->` (two channels) rather than `->`.
    pub reversible: bool,
}

/// Parses an equation; the error text says what is wrong and where.
pub fn parse_equation(text: &str) -> Result<Equation, String> {
    let (lhs, rhs, reversible) = if let Some((l, r)) = text.split_once("<->") {
        (l, r, true)
    } else if let Some((l, r)) = text.split_once("->") {
        (l, r, false)
    } else {
        return Err(format!(
            "'{text}' has no arrow; write 'A + B -> C' or 'A <-> B'"
        ));
    };
    if rhs.contains("->") {
        return Err(format!("'{text}' has more than one arrow"));
    }
    let reactants = parse_side(lhs)?;
    let products = parse_side(rhs)?;
    if reactants.is_empty() && products.is_empty() {
        return Err("both sides of the equation are empty".into());
    }
    Ok(Equation {
        reactants,
        products,
        reversible,
    })
}

fn parse_side(text: &str) -> Result<Side, String> {
    let text = text.trim();
    let mut side: Side = Vec::new();
    if text.is_empty() || text == "0" || text == "∅" {
        return Ok(side);
    }
    for term in text.split('+') {
        let term = term.trim();
        if term.is_empty() {
            return Err(format!("empty term in '{text}'"));
        }
        let digits = term.chars().take_while(|c| c.is_ascii_digit()).count();
        let (coefficient, name) = if digits > 0 {
            let n: u32 = term[..digits]
                .parse()
                .map_err(|_| format!("bad coefficient in '{term}'"))?;
            (n, term[digits..].trim_start_matches('*').trim())
        } else {
            (1, term)
        };
        if coefficient == 0 {
            return Err(format!("coefficient 0 in '{term}'"));
        }
        if !is_identifier(name) {
            return Err(format!(
                "'{name}' is not a species name (letters, digits and _, not starting with a digit)"
            ));
        }
        match side.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => *c += coefficient,
            None => side.push((name.to_string(), coefficient)),
        }
    }
    Ok(side)
}

/// True for names made of ASCII letters, digits and `_` that do not start with a digit.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(items: &[(&str, u32)]) -> Side {
        items.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    #[test]
    fn parses_every_form() {
        let e = parse_equation("Ca + CaM_C0 <-> CaM_C1").unwrap();
        assert_eq!(e.reactants, side(&[("Ca", 1), ("CaM_C0", 1)]));
        assert_eq!(e.products, side(&[("CaM_C1", 1)]));
        assert!(e.reversible);
        let e = parse_equation("2 A -> A2").unwrap();
        assert_eq!(e.reactants, side(&[("A", 2)]));
        assert!(!e.reversible);
        assert_eq!(parse_equation("-> Ca").unwrap().reactants, side(&[]));
        assert_eq!(parse_equation("X ->").unwrap().products, side(&[]));
        assert_eq!(
            parse_equation("A + A -> B").unwrap().reactants,
            side(&[("A", 2)])
        );
        assert_eq!(
            parse_equation("2B + A -> C").unwrap().reactants,
            side(&[("B", 2), ("A", 1)])
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse_equation("A = B").unwrap_err().contains("no arrow"));
        assert!(parse_equation("A -> B -> C")
            .unwrap_err()
            .contains("more than one arrow"));
        assert!(parse_equation("A + -> B")
            .unwrap_err()
            .contains("empty term"));
        assert!(parse_equation("A -> 1x-y")
            .unwrap_err()
            .contains("not a species name"));
        assert!(parse_equation("->").is_err());
    }
}

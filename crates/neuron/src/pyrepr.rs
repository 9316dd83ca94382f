//! Python `str()` / `repr()` rendering of synapse field values, for the body hash.
//!
//! The Python SDK hashes `str(v)` of each required field, so hyphae must print values exactly as
//! CPython does: `3.0` not `3`, `1e-07` not `0.0000001`, `['a', "it's"]` with Python's quoting.

use std::fmt::Write;

/// A value as the Python SDK sees it after pydantic validation.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// Python `None`.
    None,
    /// Python `bool`.
    Bool(bool),
    /// Python `int` (arbitrary precision in Python; 128 bits covers every synapse field here).
    Int(i128),
    /// Python `float` (an IEEE double).
    Float(f64),
    /// Python `str`.
    Str(String),
    /// Python `list`.
    List(Vec<PyValue>),
    /// Python `tuple`.
    Tuple(Vec<PyValue>),
    /// Python `dict`, in insertion order (as `model_dump` produces it).
    Dict(Vec<(PyValue, PyValue)>),
}

impl PyValue {
    /// `str(v)`: like `repr`, except that a top-level string is printed raw, without quotes.
    pub fn to_py_str(&self) -> String {
        match self {
            PyValue::Str(s) => s.clone(),
            other => other.to_py_repr(),
        }
    }

    /// `repr(v)`.
    pub fn to_py_repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            PyValue::None => out.push_str("None"),
            PyValue::Bool(true) => out.push_str("True"),
            PyValue::Bool(false) => out.push_str("False"),
            PyValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            PyValue::Float(f) => out.push_str(&float_repr(*f)),
            PyValue::Str(s) => write_str_repr(s, out),
            PyValue::List(items) => write_seq(items, '[', ']', out),
            PyValue::Tuple(items) => {
                if let [only] = items.as_slice() {
                    // A one-tuple needs its trailing comma: `(1,)`.
                    out.push('(');
                    only.write_repr(out);
                    out.push_str(",)");
                } else {
                    write_seq(items, '(', ')', out);
                }
            }
            PyValue::Dict(entries) => {
                out.push('{');
                for (idx, (key, value)) in entries.iter().enumerate() {
                    if idx > 0 {
                        out.push_str(", ");
                    }
                    key.write_repr(out);
                    out.push_str(": ");
                    value.write_repr(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_seq(items: &[PyValue], open: char, close: char, out: &mut String) {
    out.push(open);
    for (idx, item) in items.iter().enumerate() {
        if idx > 0 {
            out.push_str(", ");
        }
        item.write_repr(out);
    }
    out.push(close);
}

/// CPython's `repr(str)`: single quotes unless the text holds a `'` and no `"`.
fn write_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_unprintable(c) => {
                let code = u32::from(c);
                let _ = if code < 0x100 {
                    write!(out, "\\x{code:02x}")
                } else if code < 0x10000 {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// An approximation of `not str.isprintable()`: control and separator characters other than
/// the ASCII space. Exact for ASCII and Latin-1, which is what synapse text carries in practice.
fn is_unprintable(c: char) -> bool {
    c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{ad}'
}

/// Split a decimal rendering (`-0.00123`, `1.5e-7`, `12.0`) into sign, significant digits and
/// the decimal exponent of the first digit, so `0.00123` is `("123", -3)`.
fn decimal_parts(text: &str) -> (bool, String, i32) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp_text) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let explicit_exponent: i32 = exp_text.parse().unwrap_or(0);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits: String = int_part.chars().chain(frac_part.chars()).collect();
    let leading_zeros = all_digits.chars().take_while(|c| *c == '0').count();
    let significant = all_digits
        .get(leading_zeros..)
        .unwrap_or("")
        .trim_end_matches('0');
    if significant.is_empty() {
        return (negative, "0".to_owned(), 0);
    }
    let int_len = i32::try_from(int_part.len()).unwrap_or(i32::MAX);
    let zeros = i32::try_from(leading_zeros).unwrap_or(i32::MAX);
    let exponent = int_len
        .saturating_sub(zeros)
        .saturating_sub(1)
        .saturating_add(explicit_exponent);
    (negative, significant.to_owned(), exponent)
}

/// CPython's `repr(float)`: the shortest digits that round-trip, with `.0` for integral values,
/// and exponent form (`1e-07`, `1e+16`) when the decimal exponent is < -4 or >= 16.
pub fn float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value.is_sign_negative() {
            "-inf"
        } else {
            "inf"
        }
        .to_owned();
    }
    // ryu prints the shortest digits that round-trip and, among those, the closest to the exact
    // value, as CPython's dtoa does. (Rust's own `{:e}` can pick a different last digit.)
    let mut buffer = ryu::Buffer::new();
    let (negative, digits, exponent) = decimal_parts(buffer.format_finite(value));
    let mut out = String::with_capacity(digits.len().saturating_add(8));
    if negative {
        out.push('-');
    }
    if !(-4..16).contains(&exponent) {
        write_exponent_form(&digits, exponent, &mut out);
    } else {
        write_fixed_form(&digits, exponent, &mut out);
    }
    out
}

fn write_exponent_form(digits: &str, exponent: i32, out: &mut String) {
    let (first, rest) = digits.split_at(1.min(digits.len()));
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
}

fn write_fixed_form(digits: &str, exponent: i32, out: &mut String) {
    // The decimal point sits after `exponent + 1` digits.
    let point = exponent.saturating_add(1);
    match usize::try_from(point) {
        Ok(0) | Err(_) => {
            out.push_str("0.");
            let zeros = usize::try_from(point.unsigned_abs()).unwrap_or(0);
            out.extend(std::iter::repeat_n('0', zeros));
            out.push_str(digits);
        }
        Ok(point) if point >= digits.len() => {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', point.saturating_sub(digits.len())));
            out.push_str(".0");
        }
        Ok(point) => {
            let (int_part, frac_part) = digits.split_at(point);
            out.push_str(int_part);
            out.push('.');
            out.push_str(frac_part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_match_cpython() {
        let cases: &[(f64, &str)] = &[
            (3.0, "3.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (0.00012, "0.00012"),
            (1e16, "1e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (0.30000000000000004, "0.30000000000000004"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (123456.789, "123456.789"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (100.0, "100.0"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (value, expected) in cases {
            assert_eq!(float_repr(*value), *expected, "repr({value:?})");
        }
    }

    #[test]
    fn strings_and_containers() {
        let list = PyValue::List(vec![
            PyValue::Str("a".into()),
            PyValue::Str("it's".into()),
            PyValue::Str("say \"hi\" it's".into()),
            PyValue::Str("tab\there\\".into()),
        ]);
        assert_eq!(
            list.to_py_str(),
            r#"['a', "it's", 'say "hi" it\'s', 'tab\there\\']"#
        );
        assert_eq!(PyValue::Str("raw 'text'".into()).to_py_str(), "raw 'text'");
        let dict = PyValue::Dict(vec![
            (PyValue::Str("k".into()), PyValue::Str("v".into())),
            (PyValue::Str("n".into()), PyValue::Int(1)),
        ]);
        assert_eq!(dict.to_py_str(), "{'k': 'v', 'n': 1}");
        assert_eq!(PyValue::Tuple(vec![PyValue::Int(1)]).to_py_str(), "(1,)");
        assert_eq!(
            PyValue::Tuple(vec![PyValue::Bool(true), PyValue::None]).to_py_str(),
            "(True, None)"
        );
        assert_eq!(PyValue::Str("\u{1}é✓".into()).to_py_repr(), "'\\x01é✓'");
    }
}

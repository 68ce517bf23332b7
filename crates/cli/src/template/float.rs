//! Go's float formatting (strconv's `%e`, `%f` and `%g`), which Rust's differs from: Go's
//! shortest `%v` of 1000000.0 is `1e+06`, and its exponents always have a sign and two digits.
//!
//! Rust finds the digits (shortest round-trip, or correctly rounded to a precision); this file
//! lays them out as Go does.

/// A float's decimal digits: `0.d1d2d3... × 10^dp`, without trailing zeros; zero has none.
struct Digits {
    negative: bool,
    d: Vec<u8>,
    dp: i32,
}

/// Digits from Rust's `{:e}` rendering, such as `1.2345e-5`.
fn from_exponent_form(negative: bool, text: &str) -> Digits {
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let mut d: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    let dp = if d.is_empty() {
        0
    } else {
        exp.parse::<i32>().unwrap_or(0) + 1
    };
    Digits { negative, d, dp }
}

fn shortest(v: f64) -> Digits {
    from_exponent_form(v.is_sign_negative(), &format!("{:e}", v.abs()))
}

/// `n` significant digits, rounded as Go rounds (to the nearest, ties to even, from the exact
/// binary value).
fn significant(v: f64, n: usize) -> Digits {
    let n = n.max(1);
    from_exponent_form(v.is_sign_negative(), &format!("{:.*e}", n - 1, v.abs()))
}

/// Formats `v` for the verb `e`, `E`, `f`, `F`, `g` or `G`; `prec` `None` is the shortest form
/// for `g` and 6 digits for the others. Negative numbers (and -0) get a `-`.
pub(crate) fn format(v: f64, verb: char, prec: Option<usize>) -> String {
    match verb {
        'e' | 'E' => {
            let prec = prec.unwrap_or(6);
            fmt_e(&significant(v, prec + 1), prec, verb)
        }
        'f' | 'F' => format!("{:.*}", prec.unwrap_or(6), v),
        _ => {
            let e = if verb == 'G' { 'E' } else { 'e' };
            match prec {
                None => fmt_g(&shortest(v), None, e),
                Some(p) => fmt_g(&significant(v, p.max(1)), Some(p.max(1)), e),
            }
        }
    }
}

/// `%g`: `%e` for large and small exponents, else `%f`, with no trailing zeros.
fn fmt_g(digits: &Digits, prec: Option<usize>, e: char) -> String {
    let nd = i32::try_from(digits.d.len()).unwrap_or(i32::MAX);
    let shortest = prec.is_none();
    let mut prec = prec.map_or(nd, |p| i32::try_from(p).unwrap_or(i32::MAX));
    let mut eprec = prec;
    if eprec > nd && nd >= digits.dp {
        eprec = nd;
    }
    // Go decides with precision 6 when the digits are the shortest.
    if shortest {
        eprec = 6;
    }
    let exp = digits.dp - 1;
    if exp < -4 || exp >= eprec {
        if prec > nd {
            prec = nd;
        }
        return fmt_e(digits, usize::try_from(prec - 1).unwrap_or(0), e);
    }
    if prec > digits.dp {
        prec = nd;
    }
    fmt_f(digits, usize::try_from(prec - digits.dp).unwrap_or(0))
}

/// `-d.dddde±dd`.
fn fmt_e(digits: &Digits, prec: usize, e: char) -> String {
    let mut out = String::new();
    if digits.negative {
        out.push('-');
    }
    out.push(digits.d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(digits.d.get(i).map_or('0', |&c| c as char));
        }
    }
    out.push(e);
    let exp = if digits.d.is_empty() {
        0
    } else {
        digits.dp - 1
    };
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exp.abs()));
    out
}

/// `-ddd.ddd`, from digits.
fn fmt_f(digits: &Digits, prec: usize) -> String {
    let mut out = String::new();
    if digits.negative {
        out.push('-');
    }
    let digit = |j: i32| {
        usize::try_from(j)
            .ok()
            .and_then(|j| digits.d.get(j))
            .map_or('0', |&c| c as char)
    };
    if digits.dp > 0 {
        (0..digits.dp).for_each(|j| out.push(digit(j)));
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        (1..=i32::try_from(prec).unwrap_or(i32::MAX))
            .for_each(|i| out.push(digit(digits.dp + i - 1)));
    }
    out
}

/// Go's encoding/json form of a float: plain digits between 1e-6 and 1e21, else an exponent
/// without padding (`1e-7`, `1e+21`).
pub(crate) fn json(v: f64) -> String {
    let abs = v.abs();
    let digits = shortest(v);
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = fmt_e(&digits, digits.d.len().saturating_sub(1), 'e');
        // Go trims `e-07` to `e-7`, only that.
        if let Some(i) = s.find("e-0")
            && s.len() == i + 4
        {
            return format!("{}e-{}", &s[..i], &s[i + 3..]);
        }
        return s;
    }
    let nd = i32::try_from(digits.d.len()).unwrap_or(i32::MAX);
    let frac = usize::try_from(nd - digits.dp).unwrap_or(0);
    fmt_f(&digits, frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_layouts() {
        let cases: &[(f64, char, Option<usize>, &str)] = &[
            (1.5, 'g', None, "1.5"),
            (1e6, 'g', None, "1e+06"),
            (100.0, 'g', None, "100"),
            (123456.0, 'g', None, "123456"),
            (123456789.0, 'g', None, "1.23456789e+08"),
            (0.0001, 'g', None, "0.0001"),
            (0.00001, 'g', None, "1e-05"),
            (1e21, 'g', None, "1e+21"),
            (1e-320, 'g', None, "1e-320"),
            (0.0, 'g', None, "0"),
            (-0.0, 'g', None, "-0"),
            (-0.5, 'g', None, "-0.5"),
            (1.23456, 'g', Some(3), "1.23"),
            (2.0, 'g', Some(2), "2"),
            (1234.5678, 'g', Some(3), "1.23e+03"),
            (1e-10, 'G', None, "1E-10"),
            (1.23556, 'f', Some(2), "1.24"),
            (0.25, 'f', Some(1), "0.2"),
            (0.5, 'f', Some(0), "0"),
            (1.5, 'f', Some(0), "2"),
            (1.0, 'f', None, "1.000000"),
            (1234.5678, 'e', None, "1.234568e+03"),
            (0.0, 'e', None, "0.000000e+00"),
            (1e-10, 'E', None, "1.000000E-10"),
            (12345.678, 'e', Some(2), "1.23e+04"),
            (1e300, 'e', Some(0), "1e+300"),
        ];
        for &(v, verb, prec, want) in cases {
            assert_eq!(format(v, verb, prec), want, "{v} %{verb} {prec:?}");
        }
    }

    #[test]
    fn go_json_floats() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (2.0, "2"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-0.25, "-0.25"),
            (0.0, "0"),
            (1.5e300, "1.5e+300"),
        ];
        for &(v, want) in cases {
            assert_eq!(json(v), want, "{v}");
        }
    }
}

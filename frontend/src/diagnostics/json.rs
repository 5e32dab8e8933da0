//! Just enough JSON writing for the profile's outputs: strings escaped per RFC 8259, numbers
//! as plain decimals. (A JSON crate in the frontend's dependencies would put its
//! `PartialEq<Value> for f64` impls in scope of every crate using kiln and break type
//! inference of ordinary comparisons there.)

use std::fmt::Write;

/// Appends `s` as a JSON string: quotes, backslashes and control characters escaped. `/` is
/// escaped after `<` too, so the text can sit inside an HTML `<script>` element.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut prev = '\0';
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' if prev == '<' => out.push_str("\\/"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
        prev = c;
    }
    out.push('"');
}

/// Appends a number of microseconds with nanosecond precision (`12.345`), without a
/// trailing fraction when it is whole (`12`).
pub(crate) fn push_micros(out: &mut String, us: f64) {
    let rounded = (us * 1000.0).round() / 1000.0;
    if rounded.is_finite() {
        let _ = write!(out, "{rounded}");
    } else {
        out.push('0');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_numbers() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\nd\u{1}</script>é");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001<\\/script>é\"");
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}</script>é");
        let mut n = String::new();
        push_micros(&mut n, 12.3456789);
        n.push(' ');
        push_micros(&mut n, 5.0);
        n.push(' ');
        push_micros(&mut n, f64::NAN);
        assert_eq!(n, "12.346 5 0");
    }
}

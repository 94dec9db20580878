//! CSV cells as spreadsheets read them safely: quoted when needed, and a cell that a
//! spreadsheet would run as a formula (`=`, `@`, or `+`/`-` before something other than a
//! number) starts with an apostrophe instead, which an import takes off again (`unguarded`).

/// One CSV line (RFC 4180, CRLF-terminated).
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell.as_ref()));
    }
    out.push_str("\r\n");
    out
}

/// A cell as it was before `line` guarded it: without the apostrophe before `=`, `@`, `+`
/// or `-`.
pub fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '@', '+', '-', '\t', '\r']) => rest,
        _ => cell,
    }
}

fn cell_text(raw: &str) -> String {
    let looks_numeric = |s: &str| s.chars().all(|c| c.is_ascii_digit() || " .()-".contains(c)) && !s.is_empty();
    let risky = match raw.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !looks_numeric(&raw[1..]),
        _ => false,
    };
    let value = if risky { format!("'{raw}") } else { raw.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_only_when_needed() {
        assert_eq!(
            line(&["a", "b c", "d,e", "say \"hi\"", "two\nlines"]),
            "a,b c,\"d,e\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn formulas_are_neutralised_but_phone_numbers_and_negative_numbers_kept() {
        assert_eq!(cell_text("=1+1"), "'=1+1");
        assert_eq!(cell_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell_text("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(cell_text("+998901234567"), "+998901234567");
        assert_eq!(cell_text("-42"), "-42");
        assert_eq!(cell_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn a_guarded_cell_reads_back_as_it_was() {
        for raw in ["=1+1", "@ann", "+cmd", "-x", "plain", "'quoted"] {
            assert_eq!(unguarded(&cell_text(raw)), raw);
        }
    }
}

//! What every read model's reports share: the [`Table`] a report returns
//! (with its CSV) and the [`Page`] a listing report is asked for.

/// A report's result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Where the next page starts, when the table is a page of a listing
    /// with more rows after it.
    pub next_page_token: Option<String>,
}

impl Table {
    pub fn new(columns: &[&str], rows: Vec<Vec<String>>) -> Self {
        Self {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
            next_page_token: None,
        }
    }

    /// RFC 4180 CSV with a header row. A text cell a spreadsheet would run
    /// as a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return, and is not a number) is written with a leading `'`, so that
    /// opening an export never runs what a customer or a clerk typed
    /// (OWASP "CSV injection").
    pub fn to_csv(&self) -> String {
        fn cell(s: &str) -> String {
            let formula =
                s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.trim().parse::<f64>().is_err();
            let s = if formula {
                format!("'{s}")
            } else {
                s.to_owned()
            };
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.columns).chain(self.rows.iter()) {
            out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// A page of a listing report: at most `size` rows after `after` (from
/// the start when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<C> {
    pub after: Option<C>,
    pub size: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() {
        let t = Table::new(
            &["note", "amount"],
            vec![
                vec!["=HYPERLINK(\"http://x\")".into(), "-12.50".into()],
                vec!["@SUM(A1)".into(), "+3".into()],
                vec!["-cmd|' /C calc'!A0".into(), "0".into()],
            ],
        );
        assert_eq!(
            t.to_csv(),
            "note,amount\r\n\"'=HYPERLINK(\"\"http://x\"\")\",-12.50\r\n'@SUM(A1),+3\r\n'-cmd|' /C calc'!A0,0\r\n"
        );
    }
}

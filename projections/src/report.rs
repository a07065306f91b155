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

    /// RFC 4180 CSV with a header row.
    pub fn to_csv(&self) -> String {
        fn cell(s: &str) -> String {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
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

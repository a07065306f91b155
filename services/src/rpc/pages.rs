//! Paging of the listing reports (`COST_REPORT_LINES`,
//! `FRACAS_REPORT_FAILURES`): which page a request asks for, checked once
//! here for both services. A listing grows with the log, so a caller that
//! shows it pages it; without a page it is the whole listing, as before.

use domain::values::{Problem, ValueError};
use projections::report::Page;

/// The most rows a page holds.
pub const MAX_PAGE: u32 = 1000;
/// The rows of a page asked for by its token alone.
pub const DEFAULT_PAGE: u32 = 100;

/// The page asked for: `None` for the whole report. `other` is
/// `Some(paged)` when the report asked is not the paged one (`paged` names
/// the one that is, for the error) and `None` for a listing; `parse`
/// reads a token this server issued.
pub fn page<C>(
    other: Option<&str>,
    size: u32,
    token: &str,
    parse: fn(&str) -> Option<C>,
) -> Result<Option<Page<C>>, ValueError> {
    let token = token.trim();
    if size == 0 && token.is_empty() {
        return Ok(None);
    }
    let field = if size == 0 { "page_token" } else { "page_size" };
    if let Some(paged) = other {
        let only = format!("only {paged} is paged");
        return Err(Problem::Malformed(only).at(field));
    }
    let size = match size {
        0 => DEFAULT_PAGE,
        n if n <= MAX_PAGE => n,
        _ => {
            let max = i64::from(MAX_PAGE);
            return Err(Problem::OutOfRange { min: 1, max }.at("page_size"));
        }
    };
    let after = match token {
        "" => None,
        t => Some(parse(t).ok_or_else(|| {
            Problem::Malformed("is not a token this server issued".into()).at("page_token")
        })?),
    };
    Ok(Some(Page {
        after,
        size: i64::from(size),
    }))
}

/// Refuses a page for the CSV export, which is always the whole report.
pub fn whole(size: u32, token: &str) -> Result<(), ValueError> {
    let field = match (size, token.trim()) {
        (0, "") => return Ok(()),
        (0, _) => "page_token",
        _ => "page_size",
    };
    let why = "the CSV export is the whole report; page with RunReport";
    Err(Problem::Malformed(why.into()).at(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Option<u32> {
        raw.parse().ok()
    }

    fn asked(listing: bool, size: u32, token: &str) -> Result<Option<Page<u32>>, ValueError> {
        page((!listing).then_some("LINES"), size, token, parse)
    }

    #[test]
    fn no_size_and_no_token_is_the_whole_report() {
        assert_eq!(asked(true, 0, ""), Ok(None));
        assert_eq!(asked(false, 0, "  "), Ok(None));
    }

    #[test]
    fn a_size_is_a_page_from_the_start_and_a_token_alone_a_default_page_after_it() {
        let first = asked(true, 50, "").expect("page").expect("paged");
        assert_eq!((first.after, first.size), (None, 50));
        let next = asked(true, 0, "7").expect("page").expect("paged");
        assert_eq!((next.after, next.size), (Some(7), 100));
    }

    #[test]
    fn a_page_of_another_report_is_refused_naming_the_field() {
        let e = asked(false, 10, "").expect_err("refused");
        assert_eq!(e.to_string(), "page_size only LINES is paged");
        let e = asked(false, 0, "7").expect_err("refused");
        assert!(e.to_string().starts_with("page_token"), "{e}");
    }

    #[test]
    fn an_oversized_page_or_a_foreign_token_is_refused_naming_the_field() {
        let e = asked(true, 1001, "").expect_err("refused");
        assert!(e.to_string().starts_with("page_size"), "{e}");
        let e = asked(true, 10, "x").expect_err("refused");
        assert!(e.to_string().starts_with("page_token"), "{e}");
    }

    #[test]
    fn the_export_refuses_any_page() {
        assert_eq!(whole(0, ""), Ok(()));
        assert!(whole(5, "")
            .expect_err("refused")
            .to_string()
            .starts_with("page_size"));
        assert!(whole(0, "t")
            .expect_err("refused")
            .to_string()
            .starts_with("page_token"));
    }
}

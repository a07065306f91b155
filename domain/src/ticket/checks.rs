//! Field checks shared by the ticket's decisions: each refusal names the
//! field.

use super::TicketError;
use crate::money::{Money, MoneyError};
use crate::values::Problem;

pub(super) fn invalid(field: impl Into<String>, problem: Problem) -> TicketError {
    TicketError::Invalid(problem.at(field))
}

pub(super) fn money_invalid(field: impl Into<String>, err: &MoneyError) -> TicketError {
    invalid(field, Problem::Malformed(err.to_string()))
}

pub(super) fn at_most(field: &str, len: usize, max: usize) -> Result<(), TicketError> {
    if len > max {
        return Err(invalid(field, Problem::TooMany { max }));
    }
    Ok(())
}

pub(super) fn positive(field: &str, amount: &Money) -> Result<(), TicketError> {
    if amount.is_zero() {
        return Err(invalid(
            field,
            Problem::Malformed("must be greater than zero".into()),
        ));
    }
    Ok(())
}

pub(super) fn same_currency(
    field: &str,
    amount: &Money,
    expected: &Money,
) -> Result<(), TicketError> {
    amount
        .cmp_same(expected)
        .map(|_| ())
        .map_err(|e| money_invalid(field, &e))
}

//! Domain state out, proto messages in the shape clients read.

use domain::money::Money;
use domain::personal::Personal;
use domain::policy::{Remedy, WarrantyStatus};
use domain::{Ticket, TicketStatus};

use projections::report::Table;

use super::enums;
use super::parse::{self as p, to_timestamp};
use super::pb;

fn money(m: &Money) -> pb::Money {
    pb::Money {
        currency: m.currency().to_string(),
        minor_units: m.minor(),
    }
}

pub(crate) fn status(s: TicketStatus) -> pb::TicketStatus {
    use pb::TicketStatus as P;
    use TicketStatus as S;
    match s {
        S::New => P::Unspecified,
        S::Received => P::Received,
        S::Dispatched => P::Dispatched,
        S::OnSite => P::OnSite,
        S::Diagnosed => P::Diagnosed,
        S::ResolvedRemotely => P::ResolvedRemotely,
        S::Quoted => P::Quoted,
        S::QuoteApproved => P::QuoteApproved,
        S::Accepted => P::Accepted,
        S::Declined => P::Declined,
        S::AtFactory => P::AtFactory,
        S::ExchangeApproved => P::ExchangeApproved,
        S::Repaired => P::Repaired,
        S::QcFailed => P::QcFailed,
        S::QcPassed => P::QcPassed,
        S::Shipped => P::Shipped,
        S::Delivered => P::Delivered,
        S::ComplaintRouted => P::ComplaintRouted,
        S::ComplaintReplied => P::ComplaintReplied,
        S::Revisited => P::Revisited,
        S::Closed => P::Closed,
        S::Reopened => P::Reopened,
        S::Cancelled => P::Cancelled,
        S::RefundApproved => P::RefundApproved,
        S::ItemReturned => P::ItemReturned,
        S::RefundPaid => P::RefundPaid,
        S::DispatchAccepted => P::DispatchAccepted,
        S::InquiryAnswered => P::InquiryAnswered,
        S::InstallationScheduled => P::InstallationScheduled,
        S::Installed => P::Installed,
        S::InstallationAccepted => P::InstallationAccepted,
        S::MaintenanceDone => P::MaintenanceDone,
    }
}

/// The domain status a proto status names; `None` for UNSPECIFIED or unknown.
pub(crate) fn status_from_pb(raw: i32) -> Option<TicketStatus> {
    TicketStatus::ALL
        .iter()
        .copied()
        .find(|s| status(*s) as i32 == raw && raw != 0)
}

/// The status as stored in the read model (its snake_case name).
pub(crate) fn status_from_name(name: &str) -> pb::TicketStatus {
    TicketStatus::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == name)
        .map_or(pb::TicketStatus::Unspecified, status)
}

/// A personal field as a reply carries it: in clear when this reader holds
/// it so, else empty (still sealed, or erased).
pub(crate) fn personal<T: ToString>(field: &Personal<T>) -> String {
    field.known().map(ToString::to_string).unwrap_or_default()
}

/// Hides from `customer` what `sight` does not show: the hidden fields
/// empty, `personal_data_redacted` set, and the phone's last four digits
/// where the sight allows them.
pub(crate) fn shown(customer: &mut pb::Customer, sight: crate::access::Sight) {
    if !sight.hides_any() || customer.personal_data_erased {
        return;
    }
    customer.personal_data_redacted = true;
    if !sight.phone && sight.phone_digits {
        customer.phone_last_digits = last_digits(&customer.phone);
    }
    if !sight.name {
        customer.name.clear();
    }
    if !sight.phone {
        customer.phone.clear();
    }
    if !sight.address {
        customer.address.clear();
    }
}

/// A phone number's last four digits.
pub(crate) fn last_digits(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// The ticket as `t` holds it: personal fields are shown only where `t`
/// holds them in clear (see `bus::personal::reveal`).
pub(crate) fn ticket(ticket_id: &str, version: u64, t: &Ticket) -> pb::Ticket {
    let customer = t.customer.as_ref().map(|c| pb::Customer {
        name: personal(&c.name),
        phone: personal(&c.phone),
        address: personal(&c.address),
        region: p::region_pb(c.region) as i32,
        customer_id: c.id.as_ref().map(ToString::to_string).unwrap_or_default(),
        personal_data_erased: c.name.is_erased(),
        personal_data_redacted: false,
        phone_last_digits: String::new(),
    });
    let product = t.product.as_ref().map(|pr| pb::Product {
        line: pr.line.to_string(),
        model: pr.model.to_string(),
        serial_number: pr.serial.to_string(),
        batch: pr
            .batch
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        purchase_date: pr.purchased_on.map(|d| d.to_string()).unwrap_or_default(),
        proof_of_purchase: pr.proof_of_purchase,
        installed_on: pr.installed_on.map(|d| d.to_string()).unwrap_or_default(),
    });
    let warranty_status = t
        .warranty
        .as_ref()
        .map_or(pb::WarrantyStatus::Unspecified, |w| match w.status {
            WarrantyStatus::InWarranty => pb::WarrantyStatus::InWarranty,
            WarrantyStatus::OutOfWarranty => pb::WarrantyStatus::OutOfWarranty,
            WarrantyStatus::ServiceContract => pb::WarrantyStatus::ServiceContract,
        });
    let remedy = t
        .warranty
        .as_ref()
        .map_or(pb::Remedy::Unspecified, |w| match w.remedy {
            Remedy::None => pb::Remedy::None,
            Remedy::Repair => pb::Remedy::Repair,
            Remedy::Exchange => pb::Remedy::Exchange,
            Remedy::Return => pb::Remedy::Return,
        });
    let quote_tier = t
        .quote
        .as_ref()
        .map_or(pb::ApprovalTier::Unspecified, |q| enums::tier_pb(q.tier));
    pb::Ticket {
        ticket_id: ticket_id.to_owned(),
        version,
        status: status(t.status) as i32,
        kind: t.kind.map_or(0, |k| p::ticket_kind_pb(k) as i32),
        priority: t.priority.map_or(0, |k| p::priority_pb(k) as i32),
        customer,
        product,
        received_at: t.received_at.map(to_timestamp),
        warranty_status: warranty_status as i32,
        remedy: remedy as i32,
        chargeable: t.chargeable(),
        technician: t
            .technician
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        failure_mode: t
            .diagnosis
            .as_ref()
            .map(|d| d.failure_mode.to_string())
            .unwrap_or_default(),
        root_cause: t
            .diagnosis
            .as_ref()
            .map_or(0, |d| p::root_cause_pb(d.root_cause) as i32),
        repair_path: t
            .diagnosis
            .as_ref()
            .map_or(0, |d| p::repair_path_pb(d.path) as i32),
        quote_total: t.quote.as_ref().map(|q| money(&q.total)),
        quote_tier: quote_tier as i32,
        quote_valid_until: t
            .quote
            .as_ref()
            .map(|q| q.valid_until.to_string())
            .unwrap_or_default(),
        waived: t.waiver.as_ref().map(money),
        invoiced: t.invoiced.as_ref().map(money),
        paid: t.paid.as_ref().map(money),
        outstanding: t.outstanding().as_ref().map(money),
        cycle: t.cycle,
        repairs: t.repairs,
        qc_passes: t.qc_passes,
        rework_count: t.rework_count,
        failed_repairs: t.failed_repairs,
        escalated: t.escalated,
        due_on: t.due_on.map(|d| d.to_string()).unwrap_or_default(),
        refers_to: t
            .refers_to
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        free_rework: t.free_rework,
        commitment: t
            .commitment
            .as_ref()
            .map(|c| c.text.to_string())
            .unwrap_or_default(),
        promised_on: t
            .commitment
            .as_ref()
            .map(|c| c.promised_on.to_string())
            .unwrap_or_default(),
    }
}

/// A report's rows as the `ReportTable` every report RPC answers with.
pub(crate) fn report_table(table: Table) -> pb::ReportTable {
    pb::ReportTable {
        columns: table.columns,
        rows: table
            .rows
            .into_iter()
            .map(|cells| pb::ReportRow { cells })
            .collect(),
        next_page_token: table.next_page_token.unwrap_or_default(),
    }
}

/// A report as a CSV download named `<stem>.csv`.
pub(crate) fn csv_file(stem: &str, table: &Table) -> pb::CsvFile {
    pb::CsvFile {
        file_name: format!("{stem}.csv"),
        content: table.to_csv().into_bytes(),
    }
}

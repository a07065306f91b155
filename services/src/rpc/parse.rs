//! Proto messages in, validated domain values out. Every failure names the
//! field by its path in the request message (`product.serial_number`,
//! `lines[2].parts.quantity`).

use chrono::{DateTime, NaiveDate, Utc};
use domain::money::{Currency, Money};
use domain::policy::{ComplaintCategory, Department};
use domain::ticket::types::*;
use domain::values::{
    ActorId, Hours, Label, PartNumber, PhoneNumber, Problem, Quantity, SerialNumber, Text,
    ValueError,
};
use domain::Actor;

use super::pb;

type Parsed<T> = Result<T, ValueError>;

/// Joins a parent path and a field name.
/// Ticket ids: 1–64 characters of letters, digits, `-`, `_` and `.`.
/// An optional reference to another ticket: empty means none.
pub(crate) fn optional_ticket_id(field: &str, raw: &str) -> Result<Option<Label>, ValueError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let id = ticket_id(field, raw)?;
    Label::parse(&id).map(Some).map_err(|p| p.at(field))
}

pub(crate) fn ticket_id(field: &str, raw: &str) -> Result<String, ValueError> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(Problem::Empty.at(field));
    }
    if id.len() > 64 {
        return Err(Problem::TooLong { max: 64 }.at(field));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Problem::Malformed(
            "may contain only letters, digits, '-', '_' and '.'".into(),
        )
        .at(field));
    }
    Ok(id.to_owned())
}

pub(crate) fn path(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}

pub(crate) fn text(field: &str, raw: &str) -> Parsed<Text> {
    Text::parse(raw).map_err(|p| p.at(field))
}

pub(crate) fn optional_text(field: &str, raw: &str) -> Parsed<Option<Text>> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        text(field, raw).map(Some)
    }
}

pub(crate) fn label(field: &str, raw: &str) -> Parsed<Label> {
    Label::parse(raw).map_err(|p| p.at(field))
}

pub(crate) fn optional_label(field: &str, raw: &str) -> Parsed<Option<Label>> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        label(field, raw).map(Some)
    }
}

pub(crate) fn serial(field: &str, raw: &str) -> Parsed<SerialNumber> {
    SerialNumber::parse(raw).map_err(|p| p.at(field))
}

pub(crate) fn part_number(field: &str, raw: &str) -> Parsed<PartNumber> {
    PartNumber::parse(raw).map_err(|p| p.at(field))
}

pub(crate) fn actor_id(field: &str, raw: &str) -> Parsed<ActorId> {
    ActorId::parse(raw).map_err(|p| p.at(field))
}

pub(crate) fn quantity(field: &str, raw: i64) -> Parsed<Quantity> {
    Quantity::new(raw).map_err(|p| p.at(field))
}

pub(crate) fn minutes(field: &str, raw: i64) -> Parsed<Hours> {
    Hours::from_minutes(raw).map_err(|p| p.at(field))
}

pub(crate) fn money(field: &str, raw: Option<&pb::Money>) -> Parsed<Money> {
    let raw = raw.ok_or_else(|| Problem::Empty.at(field))?;
    let currency = Currency::parse(&raw.currency).map_err(|p| p.at(path(field, "currency")))?;
    Money::new(raw.minor_units, currency)
        .map_err(|e| Problem::Malformed(e.to_string()).at(path(field, "minor_units")))
}

pub(crate) fn date(field: &str, raw: &str) -> Parsed<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Problem::Empty.at(field));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| Problem::Malformed("must be a date YYYY-MM-DD".into()).at(field))
}

pub(crate) fn optional_date(field: &str, raw: &str) -> Parsed<Option<NaiveDate>> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        date(field, raw).map(Some)
    }
}

pub(crate) fn timestamp(
    field: &str,
    raw: Option<&prost_types::Timestamp>,
) -> Parsed<DateTime<Utc>> {
    let raw = raw.ok_or_else(|| Problem::Empty.at(field))?;
    u32::try_from(raw.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(raw.seconds, nanos))
        .ok_or_else(|| Problem::Malformed("is not a valid timestamp".into()).at(field))
}

/// A command's optional `context.occurred_at`, at the microsecond
/// precision both stores keep.
pub(crate) fn occurred_at(raw: Option<&prost_types::Timestamp>) -> Parsed<Option<DateTime<Utc>>> {
    Ok(optional_timestamp(domain::timing::FIELD, raw)?.map(projections::log::append::to_micros))
}

pub(crate) fn optional_timestamp(
    field: &str,
    raw: Option<&prost_types::Timestamp>,
) -> Parsed<Option<DateTime<Utc>>> {
    raw.map(|t| timestamp(field, Some(t))).transpose()
}

pub(crate) fn to_timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// Declares the two-way mapping between a proto enum and a domain enum.
/// The proto's UNSPECIFIED (0) is "missing"; an unknown number is malformed.
macro_rules! enum_map {
    ($from_pb:ident, $to_pb:ident, $pb:ident <=> $dom:ident { $($p:ident <=> $d:ident),+ $(,)? }) => {
        pub(crate) fn $from_pb(field: &str, raw: i32) -> Parsed<$dom> {
            match pb::$pb::try_from(raw) {
                $(Ok(pb::$pb::$p) => Ok($dom::$d),)+
                Ok(_) => Err(Problem::Empty.at(field)),
                Err(_) => Err(Problem::Malformed(format!("has unknown value {raw}")).at(field)),
            }
        }

        #[allow(dead_code)]
        pub(crate) fn $to_pb(value: $dom) -> pb::$pb {
            match value { $($dom::$d => pb::$pb::$p,)+ }
        }
    };
}

enum_map!(channel, channel_pb, Channel <=> Channel {
    Phone <=> Phone, Letter <=> Letter, Visit <=> Visit, Online <=> Online, Store <=> Store,
});
enum_map!(ticket_kind, ticket_kind_pb, TicketKind <=> TicketKind {
    Repair <=> Repair, Complaint <=> Complaint, Inquiry <=> Inquiry,
    Maintenance <=> Maintenance, Installation <=> Installation,
});
enum_map!(region, region_pb, Region <=> Region {
    Urban <=> Urban, Suburban <=> Suburban, Remote <=> Remote,
});
enum_map!(priority, priority_pb, Priority <=> Priority { Urgent <=> Urgent, Normal <=> Normal });
enum_map!(service_mode, service_mode_pb, ServiceMode <=> ServiceMode {
    Phone <=> Phone, OnSite <=> OnSite, MailIn <=> MailIn, Exchange <=> Exchange,
});
enum_map!(root_cause, root_cause_pb, RootCause <=> RootCause {
    Design <=> Design, Material <=> Material, Manufacturing <=> Manufacturing,
    Assembly <=> Assembly, SupplierPart <=> SupplierPart, Transport <=> Transport,
    Packaging <=> Packaging, Misuse <=> Misuse, Wear <=> Wear,
    NoFaultFound <=> NoFaultFound, Unknown <=> Unknown,
});
enum_map!(department, department_pb, Department <=> Department {
    QualityControl <=> QualityControl, AfterSales <=> AfterSales,
    WarehouseDistribution <=> WarehouseDistribution, Sales <=> Sales, Logistics <=> Logistics,
    AfterSalesManager <=> AfterSalesManager, Design <=> Design, Production <=> Production,
    Purchasing <=> Purchasing,
});
enum_map!(repair_path, repair_path_pb, RepairPath <=> RepairPath {
    RemoteFix <=> RemoteFix, OnSiteRepair <=> OnSiteRepair, WorkshopRepair <=> WorkshopRepair,
    ReturnToFactory <=> ReturnToFactory, Exchange <=> Exchange, Refund <=> Refund,
});
enum_map!(old_part, old_part_pb, OldPartDisposition <=> OldPartDisposition {
    ReturnedToCustomer <=> ReturnedToCustomer, RecoveredReusable <=> RecoveredReusable,
    Scrapped <=> Scrapped,
});
enum_map!(factory_request, factory_request_pb, FactoryRequest <=> FactoryRequest {
    Repair <=> Repair, Exchange <=> Exchange,
});
enum_map!(factory_outcome, factory_outcome_pb, FactoryOutcome <=> FactoryOutcome {
    Repaired <=> Repaired, ExchangeAgreed <=> ExchangeAgreed, Refused <=> Refused,
});
enum_map!(satisfaction_level, satisfaction_level_pb, SatisfactionLevel <=> SatisfactionLevel {
    VerySatisfied <=> VerySatisfied, Satisfied <=> Satisfied, Fair <=> Fair,
    Dissatisfied <=> Dissatisfied,
});
enum_map!(complaint_category, complaint_category_pb, ComplaintCategory <=> ComplaintCategory {
    ProductQuality <=> ProductQuality, PackagingOrSpoilage <=> PackagingOrSpoilage,
    StaffConduct <=> StaffConduct, DeliveryDelay <=> DeliveryDelay, Other <=> Other,
});

pub(crate) fn customer(field: &str, raw: Option<&pb::Customer>) -> Parsed<Customer> {
    let raw = raw.ok_or_else(|| Problem::Empty.at(field))?;
    // The id is ticketd's to give (`CommandBus::give_customer_id`).
    Ok(Customer {
        id: None,
        name: label(&path(field, "name"), &raw.name)?.into(),
        phone: PhoneNumber::parse(&raw.phone)
            .map_err(|p| p.at(path(field, "phone")))?
            .into(),
        address: label(&path(field, "address"), &raw.address)?.into(),
        region: region(&path(field, "region"), raw.region)?,
    })
}

pub(crate) fn product(field: &str, raw: Option<&pb::Product>) -> Parsed<Product> {
    let raw = raw.ok_or_else(|| Problem::Empty.at(field))?;
    Ok(Product {
        line: label(&path(field, "line"), &raw.line)?,
        model: label(&path(field, "model"), &raw.model)?,
        serial: serial(&path(field, "serial_number"), &raw.serial_number)?,
        batch: optional_label(&path(field, "batch"), &raw.batch)?,
        purchased_on: optional_date(&path(field, "purchase_date"), &raw.purchase_date)?,
        proof_of_purchase: raw.proof_of_purchase,
        installed_on: optional_date(&path(field, "installed_on"), &raw.installed_on)?,
    })
}

/// Lists longer than this are refused before any element is parsed.
pub(crate) const MAX_LIST: usize = 200;

pub(crate) fn bounded_list<T>(field: &str, items: &[T]) -> Parsed<()> {
    if items.len() > MAX_LIST {
        return Err(Problem::OutOfRange {
            min: 0,
            max: MAX_LIST as i64,
        }
        .at(field));
    }
    Ok(())
}

pub(crate) fn quote_line(field: &str, raw: &pb::QuoteLine) -> Parsed<QuoteLine> {
    use pb::quote_line::Line;
    let line = raw.line.as_ref().ok_or_else(|| Problem::Empty.at(field))?;
    Ok(match line {
        Line::Parts(p) => {
            let base = path(field, "parts");
            QuoteLine::Parts {
                part_number: part_number(&path(&base, "part_number"), &p.part_number)?,
                quantity: quantity(&path(&base, "quantity"), p.quantity)?,
                unit_price: money(&path(&base, "unit_price"), p.unit_price.as_ref())?,
            }
        }
        Line::Labour(l) => {
            let base = path(field, "labour");
            QuoteLine::Labour {
                hours: minutes(&path(&base, "minutes"), l.minutes)?,
                hourly_rate: money(&path(&base, "hourly_rate"), l.hourly_rate.as_ref())?,
            }
        }
        Line::Travel(m) => QuoteLine::Travel {
            amount: money(&path(field, "travel"), Some(m))?,
        },
        Line::Shipping(m) => QuoteLine::Shipping {
            amount: money(&path(field, "shipping"), Some(m))?,
        },
        Line::FactoryRepairFee(m) => QuoteLine::FactoryRepairFee {
            amount: money(&path(field, "factory_repair_fee"), Some(m))?,
        },
        Line::ExpediteFee(m) => QuoteLine::ExpediteFee {
            amount: money(&path(field, "expedite_fee"), Some(m))?,
        },
    })
}

pub(crate) fn part_used(field: &str, raw: &pb::PartUsed) -> Parsed<PartUsed> {
    Ok(PartUsed {
        part_number: part_number(&path(field, "part_number"), &raw.part_number)?,
        quantity: quantity(&path(field, "quantity"), raw.quantity)?,
        unit_cost: money(&path(field, "unit_cost"), raw.unit_cost.as_ref())?,
        old_part: old_part(&path(field, "old_part"), raw.old_part)?,
    })
}

pub(crate) fn satisfaction(field: &str, raw: Option<&pb::Satisfaction>) -> Parsed<Satisfaction> {
    let raw = raw.ok_or_else(|| Problem::Empty.at(field))?;
    Ok(Satisfaction {
        attitude: satisfaction_level(&path(field, "attitude"), raw.attitude)?,
        skill: satisfaction_level(&path(field, "skill"), raw.skill)?,
        arrival_time: satisfaction_level(&path(field, "arrival_time"), raw.arrival_time)?,
        promises_kept: satisfaction_level(&path(field, "promises_kept"), raw.promises_kept)?,
    })
}

/// What the caller's credential grants (none for a call from the console).
pub(crate) fn grants<T>(request: &tonic::Request<T>) -> crate::auth::Grants {
    request
        .extensions()
        .get::<crate::auth::Grants>()
        .copied()
        .unwrap_or_default()
}

/// The caller, as the access layer identified them.
pub(crate) fn caller<T>(request: &tonic::Request<T>) -> Result<Actor, tonic::Status> {
    request
        .extensions()
        .get::<Actor>()
        .cloned()
        .ok_or_else(|| tonic::Status::unauthenticated("caller not identified"))
}

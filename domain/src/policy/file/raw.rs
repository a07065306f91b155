//! The policy file as TOML gives it, before any check: unknown fields
//! refused, values kept with their place in the file.

use serde::Deserialize;
use toml::Spanned;

use crate::policy::warranty::CountFrom;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) version: Spanned<String>,
    pub(super) currency: Spanned<String>,
    pub(super) utc_offset: Spanned<String>,
    pub(super) warranty: RawWarranty,
    pub(super) default_product: RawTerms,
    pub(super) costs: RawCosts,
    pub(super) approval: RawApproval,
    #[serde(default)]
    pub(super) product_line: Vec<RawLine>,
    #[serde(default)]
    pub(super) privacy: Option<RawPrivacy>,
    #[serde(default)]
    pub(super) access: Option<RawAccess>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccess {
    #[serde(default)]
    pub(super) rpc: std::collections::BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) import_roles: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivacy {
    pub(super) erase_customers_years_after_closing: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWarranty {
    pub(super) return_window_days: Spanned<i64>,
    pub(super) exchange_window_days: Spanned<i64>,
    pub(super) failed_repairs_for_exchange: Spanned<i64>,
    #[serde(default)]
    pub(super) period_counting: crate::period::Counting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerms {
    pub(super) warranty_months: Spanned<i64>,
    pub(super) count_from: CountFrom,
    pub(super) three_guarantees: bool,
    pub(super) repair_guarantee_days: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCosts {
    pub(super) labour_per_hour: Spanned<String>,
    pub(super) shipping_per_shipment: Spanned<String>,
    pub(super) factory_repair_fee: Spanned<String>,
    pub(super) replacement_unit: Spanned<String>,
    pub(super) travel: RawTravel,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTravel {
    pub(super) urban: Spanned<String>,
    pub(super) suburban: Spanned<String>,
    pub(super) remote: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLineCosts {
    pub(super) labour_per_hour: Option<Spanned<String>>,
    pub(super) shipping_per_shipment: Option<Spanned<String>>,
    pub(super) factory_repair_fee: Option<Spanned<String>>,
    pub(super) replacement_unit: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) travel: RawLineTravel,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLineTravel {
    pub(super) urban: Option<Spanned<String>>,
    pub(super) suburban: Option<Spanned<String>>,
    pub(super) remote: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApproval {
    pub(super) tiers: Vec<RawTier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    pub(super) from: Spanned<String>,
    pub(super) below: Option<Spanned<String>>,
    pub(super) approve_price: Vec<Spanned<String>>,
    pub(super) waive: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLine {
    pub(super) name: Spanned<String>,
    pub(super) line: Option<Spanned<String>>,
    pub(super) model_prefix: Option<Spanned<String>>,
    pub(super) warranty_months: Option<Spanned<i64>>,
    pub(super) count_from: Option<CountFrom>,
    pub(super) three_guarantees: Option<bool>,
    pub(super) repair_guarantee_days: Option<Spanned<i64>>,
    pub(super) costs: Option<RawLineCosts>,
}

//! The rules a policy file must keep, each breach named with its field and
//! line; every breach is collected, not only the first.

use std::ops::Range;

use toml::Spanned;

use super::raw::*;
use super::{position, FieldProblem, PolicyVersion};
use crate::money::{Currency, Money};
use crate::period::RestDays;
use crate::policy::approval::{ApprovalPolicy, ApprovalTier, TierRule};
use crate::policy::cost::CostRates;
use crate::policy::warranty::{ProductLine, ProductLineTerms, WarrantyPolicy};
use crate::roles::Role;
use crate::ticket::{AccessPolicy, Policies, PrivacyPolicy};

/// Parses "1000", "1000.5" or "1000.00" (main units, at most two decimals).
fn parse_amount(raw: &str, currency: &Currency) -> Result<Money, String> {
    let bad = || format!("{raw:?} is not an amount like \"80.00\"");
    let raw_trimmed = raw.trim();
    if raw_trimmed.starts_with('-') {
        return Err("must not be negative".into());
    }
    let (whole, fraction) = raw_trimmed.split_once('.').unwrap_or((raw_trimmed, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let minor = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)?;
    Money::new(minor, currency.clone()).map_err(|e| e.to_string())
}

fn parse_offset(raw: &str) -> Option<i32> {
    let (sign, rest) = match raw.trim().split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(sign * (h * 60 + m))
}

pub(super) struct Checker<'a> {
    text: &'a str,
    pub(super) problems: Vec<FieldProblem>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            problems: Vec::new(),
        }
    }

    fn problem(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (line, column) = position(self.text, span.start);
        self.problems.push(FieldProblem {
            line,
            column,
            field: field.into(),
            message: message.into(),
        });
    }

    fn count(&mut self, value: &Spanned<i64>, field: &str, min: i64) -> Option<u32> {
        let v = *value.get_ref();
        if v < min {
            let message = if min == 0 {
                "must not be negative".to_owned()
            } else {
                format!("must be at least {min}")
            };
            self.problem(value.span(), field, message);
            return None;
        }
        match u32::try_from(v) {
            Ok(v) if v <= 100_000 => Some(v),
            _ => {
                self.problem(value.span(), field, "is too large");
                None
            }
        }
    }

    fn amount(
        &mut self,
        value: &Spanned<String>,
        field: &str,
        currency: &Currency,
    ) -> Option<Money> {
        match parse_amount(value.get_ref(), currency) {
            Ok(m) => Some(m),
            Err(message) => {
                self.problem(value.span(), field, message);
                None
            }
        }
    }

    pub(super) fn policy(&mut self, raw: &RawPolicy, digest: String) -> Option<Policies> {
        let label = raw.version.get_ref().trim().to_owned();
        if label.is_empty() {
            self.problem(raw.version.span(), "version", "must not be empty");
        }
        let currency = match Currency::parse(raw.currency.get_ref()) {
            Ok(c) => c,
            Err(p) => {
                self.problem(raw.currency.span(), "currency", p.to_string());
                Currency::cny()
            }
        };
        let offset = parse_offset(raw.utc_offset.get_ref());
        if offset.is_none() {
            self.problem(
                raw.utc_offset.span(),
                "utc_offset",
                "must be like \"+08:00\" (at most 14 hours either way)",
            );
        }
        let costs = self.costs(&raw.costs, &currency);
        let default_terms = self.terms(&raw.default_product, "default_product");
        let approval = self.tiers(&raw.approval.tiers, &currency);
        let windows = self.windows(&raw.warranty);
        let retention = self.retention(raw.privacy.as_ref());
        let access = self.access(raw.access.as_ref());
        let (costs, default_terms) = (costs?, default_terms?);
        let product_lines = self.lines(&raw.product_line, default_terms, &costs, &currency);
        let (return_window_days, exchange_window_days, failed_repairs_for_exchange) = windows?;
        Some(Policies {
            warranty: WarrantyPolicy {
                default_terms,
                product_lines: product_lines?,
                return_window_days,
                exchange_window_days,
                failed_repairs_for_exchange,
                counting: raw.warranty.period_counting,
            },
            approval: ApprovalPolicy {
                currency,
                tiers: approval?,
            },
            costs,
            utc_offset_minutes: offset?,
            version: PolicyVersion { label, digest },
            privacy: PrivacyPolicy {
                erase_customers_years_after_closing: retention?,
            },
            access: access?,
            rest_days: RestDays::default(),
        })
    }

    /// `[access]`: each RPC key is `Service.Method` (the service checks it
    /// names an RPC), each role a role.
    fn access(&mut self, raw: Option<&RawAccess>) -> Option<AccessPolicy> {
        let Some(raw) = raw else {
            return Some(AccessPolicy::default());
        };
        let before = self.problems.len();
        let mut rpc = std::collections::BTreeMap::new();
        for (name, roles) in &raw.rpc {
            let field = format!("access.rpc.\"{name}\"");
            let shaped = name
                .split_once('.')
                .is_some_and(|(s, m)| !s.is_empty() && !m.is_empty() && !m.contains('.'));
            if !shaped {
                self.problem(roles.span(), &field, "must name an RPC as Service.Method");
            }
            rpc.insert(name.clone(), self.roles(roles.get_ref(), &field));
        }
        let import_roles = raw
            .import_roles
            .as_ref()
            .map(|roles| self.roles(roles, "access.import_roles"));
        (self.problems.len() == before).then_some(AccessPolicy { rpc, import_roles })
    }

    /// `privacy.erase_customers_years_after_closing`: 0 (or absent) is off.
    fn retention(&mut self, raw: Option<&RawPrivacy>) -> Option<Option<u32>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        let field = "privacy.erase_customers_years_after_closing";
        let years = self.count(&raw.erase_customers_years_after_closing, field, 0)?;
        if years > 200 {
            self.problem(
                raw.erase_customers_years_after_closing.span(),
                field,
                "must be at most 200 years",
            );
            return None;
        }
        Some((years > 0).then_some(years))
    }

    fn windows(&mut self, raw: &RawWarranty) -> Option<(i64, i64, u32)> {
        let ret = self.count(&raw.return_window_days, "warranty.return_window_days", 0);
        let exchange = self.count(
            &raw.exchange_window_days,
            "warranty.exchange_window_days",
            0,
        );
        let failed = self.count(
            &raw.failed_repairs_for_exchange,
            "warranty.failed_repairs_for_exchange",
            1,
        );
        let (ret, exchange) = (i64::from(ret?), i64::from(exchange?));
        if exchange < ret {
            self.problem(
                raw.exchange_window_days.span(),
                "warranty.exchange_window_days",
                "must not be shorter than return_window_days",
            );
            return None;
        }
        Some((ret, exchange, failed?))
    }

    fn terms(&mut self, raw: &RawTerms, at: &str) -> Option<ProductLineTerms> {
        let months = self.count(&raw.warranty_months, &format!("{at}.warranty_months"), 0);
        let guarantee = self.count(
            &raw.repair_guarantee_days,
            &format!("{at}.repair_guarantee_days"),
            0,
        );
        Some(ProductLineTerms {
            warranty_months: months?,
            count_from: raw.count_from,
            three_guarantees: raw.three_guarantees,
            repair_guarantee_days: guarantee?,
        })
    }

    fn costs(&mut self, raw: &RawCosts, currency: &Currency) -> Option<CostRates> {
        let mut a = |v: &Spanned<String>, f: &str| self.amount(v, &format!("costs.{f}"), currency);
        let labour = a(&raw.labour_per_hour, "labour_per_hour");
        let shipping = a(&raw.shipping_per_shipment, "shipping_per_shipment");
        let factory = a(&raw.factory_repair_fee, "factory_repair_fee");
        let unit = a(&raw.replacement_unit, "replacement_unit");
        let urban = a(&raw.travel.urban, "travel.urban");
        let suburban = a(&raw.travel.suburban, "travel.suburban");
        let remote = a(&raw.travel.remote, "travel.remote");
        Some(CostRates {
            labour_per_hour: labour?,
            travel_urban: urban?,
            travel_suburban: suburban?,
            travel_remote: remote?,
            shipping_per_shipment: shipping?,
            factory_repair_fee: factory?,
            replacement_unit: unit?,
        })
    }

    fn line_costs(
        &mut self,
        raw: &RawLineCosts,
        company: &CostRates,
        at: &str,
        currency: &Currency,
    ) -> Option<CostRates> {
        let mut ok = true;
        let mut pick = |v: &Option<Spanned<String>>, f: &str, fallback: &Money| match v {
            None => fallback.clone(),
            Some(v) => self
                .amount(v, &format!("{at}.costs.{f}"), currency)
                .unwrap_or_else(|| {
                    ok = false;
                    fallback.clone()
                }),
        };
        let rates = CostRates {
            labour_per_hour: pick(
                &raw.labour_per_hour,
                "labour_per_hour",
                &company.labour_per_hour,
            ),
            travel_urban: pick(&raw.travel.urban, "travel.urban", &company.travel_urban),
            travel_suburban: pick(
                &raw.travel.suburban,
                "travel.suburban",
                &company.travel_suburban,
            ),
            travel_remote: pick(&raw.travel.remote, "travel.remote", &company.travel_remote),
            shipping_per_shipment: pick(
                &raw.shipping_per_shipment,
                "shipping_per_shipment",
                &company.shipping_per_shipment,
            ),
            factory_repair_fee: pick(
                &raw.factory_repair_fee,
                "factory_repair_fee",
                &company.factory_repair_fee,
            ),
            replacement_unit: pick(
                &raw.replacement_unit,
                "replacement_unit",
                &company.replacement_unit,
            ),
        };
        ok.then_some(rates)
    }

    fn lines(
        &mut self,
        raw: &[RawLine],
        defaults: ProductLineTerms,
        company: &CostRates,
        currency: &Currency,
    ) -> Option<Vec<ProductLine>> {
        let before = self.problems.len();
        let mut out = Vec::with_capacity(raw.len());
        for (i, line) in raw.iter().enumerate() {
            let at = format!("product_line[{}]", i + 1);
            let name = line.name.get_ref().trim().to_owned();
            if name.is_empty() || name == "default" {
                self.problem(
                    line.name.span(),
                    format!("{at}.name"),
                    "must be given and not be \"default\"",
                );
            } else if out.iter().any(|l: &ProductLine| l.name == name) {
                self.problem(
                    line.name.span(),
                    format!("{at}.name"),
                    format!("{name:?} is named twice"),
                );
            }
            let text = |v: &Option<Spanned<String>>| {
                v.as_ref()
                    .map(|s| s.get_ref().trim().to_owned())
                    .filter(|s| !s.is_empty())
            };
            let (matches_line, prefix) = (text(&line.line), text(&line.model_prefix));
            if matches_line.is_none() && prefix.is_none() {
                self.problem(
                    line.name.span(),
                    format!("{at}.line"),
                    "give `line`, `model_prefix` or both",
                );
            }
            let count = |c: &mut Self, v: &Option<Spanned<i64>>, f: &str, d: u32| match v {
                None => Some(d),
                Some(v) => c.count(v, &format!("{at}.{f}"), 0),
            };
            let months = count(
                self,
                &line.warranty_months,
                "warranty_months",
                defaults.warranty_months,
            );
            let guarantee = count(
                self,
                &line.repair_guarantee_days,
                "repair_guarantee_days",
                defaults.repair_guarantee_days,
            );
            let costs = match &line.costs {
                None => None,
                Some(c) => self.line_costs(c, company, &at, currency),
            };
            if let (Some(months), Some(guarantee)) = (months, guarantee) {
                out.push(ProductLine {
                    name,
                    line: matches_line,
                    model_prefix: prefix,
                    terms: ProductLineTerms {
                        warranty_months: months,
                        count_from: line.count_from.unwrap_or(defaults.count_from),
                        three_guarantees: line
                            .three_guarantees
                            .unwrap_or(defaults.three_guarantees),
                        repair_guarantee_days: guarantee,
                    },
                    costs,
                });
            }
        }
        (self.problems.len() == before).then_some(out)
    }

    fn roles(&mut self, raw: &[Spanned<String>], field: &str) -> Vec<Role> {
        let mut out = Vec::new();
        for role in raw {
            match Role::parse(role.get_ref().trim()) {
                Some(r) => out.push(r),
                None => self.problem(
                    role.span(),
                    field,
                    format!("{:?} is not a role", role.get_ref()),
                ),
            }
        }
        out
    }

    fn tiers(&mut self, raw: &[RawTier], currency: &Currency) -> Option<Vec<TierRule>> {
        const NAMES: [ApprovalTier; 3] = [
            ApprovalTier::Tier1,
            ApprovalTier::Tier2,
            ApprovalTier::Tier3,
        ];
        let before = self.problems.len();
        if raw.is_empty() || raw.len() > NAMES.len() {
            self.problems.push(FieldProblem {
                line: 1,
                column: 1,
                field: "approval.tiers".into(),
                message: format!("give one to three tiers, not {}", raw.len()),
            });
            return None;
        }
        let mut out: Vec<TierRule> = Vec::new();
        for (i, (tier, name)) in raw.iter().zip(NAMES).enumerate() {
            let at = format!("approval.tiers[{}]", i + 1);
            let from = self.amount(&tier.from, &format!("{at}.from"), currency);
            let below = tier
                .below
                .as_ref()
                .map(|b| (b.span(), self.amount(b, &format!("{at}.below"), currency)));
            let approve_price = self.roles(&tier.approve_price, &format!("{at}.approve_price"));
            if tier.approve_price.is_empty() {
                self.problem(
                    tier.from.span(),
                    format!("{at}.approve_price"),
                    "name at least one role",
                );
            }
            let waive = self.roles(&tier.waive, &format!("{at}.waive"));
            let Some(from) = from else { continue };
            let expected = out
                .last()
                .map_or(Some(0), |t| t.below.as_ref().map(Money::minor));
            match expected {
                Some(start) if from.minor() < start => self.problem(
                    tier.from.span(),
                    format!("{at}.from"),
                    format!(
                        "overlaps the tier before, which runs below {}",
                        minor_text(start)
                    ),
                ),
                Some(start) if from.minor() > start => self.problem(
                    tier.from.span(),
                    format!("{at}.from"),
                    format!("leaves a gap: must be {}", minor_text(start)),
                ),
                Some(_) | None => {}
            }
            let below = match below {
                None if i + 1 < raw.len() => {
                    self.problem(
                        tier.from.span(),
                        format!("{at}.below"),
                        "only the top tier may have no `below`",
                    );
                    None
                }
                Some((span, _)) if i + 1 == raw.len() => {
                    self.problem(
                        span,
                        format!("{at}.below"),
                        "the top tier has no upper bound",
                    );
                    None
                }
                Some((span, Some(b))) if b.minor() <= from.minor() => {
                    self.problem(span, format!("{at}.below"), "must be above `from`");
                    None
                }
                Some((_, b)) => b,
                None => None,
            };
            out.push(TierRule {
                tier: name,
                from,
                below,
                approve_price,
                waive,
            });
        }
        (self.problems.len() == before).then_some(out)
    }
}

fn minor_text(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

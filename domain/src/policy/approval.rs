//! Approval tiers for quoted prices and fee waivers (DOMAIN.md §5).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};
use crate::roles::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalTier {
    /// The lowest tier (built in: below 1,000.00 CNY).
    Tier1,
    /// The second (built in: 1,000.00 to 4,999.99 CNY).
    Tier2,
    /// The third (built in: 5,000.00 CNY and above).
    Tier3,
}

impl ApprovalTier {
    /// Every tier, lowest first.
    pub const ALL: [ApprovalTier; 3] = [
        ApprovalTier::Tier1,
        ApprovalTier::Tier2,
        ApprovalTier::Tier3,
    ];
}

impl fmt::Display for ApprovalTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApprovalTier::Tier1 => "tier 1",
            ApprovalTier::Tier2 => "tier 2",
            ApprovalTier::Tier3 => "tier 3",
        })
    }
}

/// One tier of the company's approval rules: the totals it covers and who
/// may approve a price or waive a fee in it. A quote records the rule of
/// its tier, so a later change of the policy never changes its tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRule {
    pub tier: ApprovalTier,
    /// Totals from this amount on (inclusive)…
    pub from: Money,
    /// …and below this one; `None` for the top tier.
    pub below: Option<Money>,
    /// Who may approve a quoted price of this tier.
    pub approve_price: Vec<Role>,
    /// Who may waive a fee of this tier.
    pub waive: Vec<Role>,
}

impl TierRule {
    pub fn may_approve_price(&self, role: Role) -> bool {
        self.approve_price.contains(&role)
    }

    pub fn may_waive(&self, role: Role) -> bool {
        self.waive.contains(&role)
    }
}

/// The company's approval tiers, contiguous from zero, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    pub currency: Currency,
    /// In ascending order; the policy file checks they neither overlap nor
    /// leave a gap.
    pub tiers: Vec<TierRule>,
}

impl ApprovalPolicy {
    /// The rule of the tier `total` falls in.
    pub fn tier_of(&self, total: &Money) -> Result<&TierRule, MoneyError> {
        if total.currency() != &self.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: total.currency().clone(),
                right: self.currency.clone(),
            });
        }
        self.tiers
            .iter()
            .rev()
            .find(|t| t.from.minor() <= total.minor())
            .or(self.tiers.first())
            .ok_or(MoneyError::Overflow)
    }
}

/// The rules before they were configurable, for quotes recorded without
/// their tier's rule: who may approve a quoted price of this tier.
pub fn may_approve_price(role: Role, tier: ApprovalTier) -> bool {
    match tier {
        ApprovalTier::Tier1 => matches!(
            role,
            Role::ServiceManager | Role::SalesVp | Role::GeneralManager
        ),
        ApprovalTier::Tier2 | ApprovalTier::Tier3 => {
            matches!(role, Role::SalesVp | Role::GeneralManager)
        }
    }
}

/// The rules before they were configurable: who may waive a fee of this tier.
pub fn may_waive(role: Role, tier: ApprovalTier) -> bool {
    match tier {
        ApprovalTier::Tier1 => matches!(
            role,
            Role::ServiceManager | Role::SalesVp | Role::GeneralManager
        ),
        ApprovalTier::Tier2 => matches!(role, Role::SalesVp | Role::GeneralManager),
        ApprovalTier::Tier3 => role == Role::GeneralManager,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> ApprovalPolicy {
        crate::ticket::Policies::builtin().approval
    }

    fn tier(fen: u32) -> ApprovalTier {
        builtin()
            .tier_of(&Money::cny(fen))
            .expect("CNY amount")
            .tier
    }

    #[test]
    fn tier_boundaries_are_exact() {
        assert_eq!(tier(99_999), ApprovalTier::Tier1);
        assert_eq!(tier(100_000), ApprovalTier::Tier2);
        assert_eq!(tier(499_999), ApprovalTier::Tier2);
        assert_eq!(tier(500_000), ApprovalTier::Tier3);
    }

    #[test]
    fn service_manager_approves_999_99_but_not_1000() {
        assert!(may_approve_price(Role::ServiceManager, tier(99_999)));
        assert!(!may_approve_price(Role::ServiceManager, tier(100_000)));
    }

    #[test]
    fn sales_vp_approves_prices_of_every_tier() {
        for fen in [99_999, 100_000, 499_999, 500_000] {
            assert!(may_approve_price(Role::SalesVp, tier(fen)));
        }
    }

    #[test]
    fn waiver_of_4999_99_needs_sales_vp_and_of_5000_needs_general_manager() {
        assert!(!may_waive(Role::ServiceManager, tier(499_999)));
        assert!(may_waive(Role::SalesVp, tier(499_999)));
        assert!(!may_waive(Role::SalesVp, tier(500_000)));
        assert!(may_waive(Role::GeneralManager, tier(500_000)));
    }

    #[test]
    fn service_manager_waives_999_99_but_not_1000() {
        assert!(may_waive(Role::ServiceManager, tier(99_999)));
        assert!(!may_waive(Role::ServiceManager, tier(100_000)));
    }

    #[test]
    fn technicians_and_finance_approve_nothing() {
        for role in [
            Role::Technician,
            Role::Finance,
            Role::CustomerService,
            Role::Auditor,
        ] {
            assert!(!may_approve_price(role, ApprovalTier::Tier1));
            assert!(!may_waive(role, ApprovalTier::Tier1));
        }
    }

    #[test]
    fn the_built_in_tiers_follow_the_rules_of_domain_section_5() {
        for fen in [0, 99_999, 100_000, 499_999, 500_000, 10_000_000] {
            let rule = builtin().tier_of(&Money::cny(fen)).expect("CNY").clone();
            for role in Role::ALL {
                assert_eq!(
                    rule.may_approve_price(role),
                    may_approve_price(role, rule.tier)
                );
                assert_eq!(rule.may_waive(role), may_waive(role, rule.tier));
            }
        }
    }

    #[test]
    fn a_usd_total_has_no_cny_tier() {
        let usd = Money::new(100, Currency::parse("USD").expect("code")).expect("amount");
        assert!(builtin().tier_of(&usd).is_err());
    }
}

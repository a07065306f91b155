//! Approval tiers for quoted prices and fee waivers (DOMAIN.md §5).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};
use crate::roles::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalTier {
    /// Below 1,000.00 CNY.
    Tier1,
    /// 1,000.00 to 4,999.99 CNY.
    Tier2,
    /// 5,000.00 CNY and above.
    Tier3,
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

/// Where the tiers start, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    pub currency: Currency,
    pub tier2_from_minor: i64,
    pub tier3_from_minor: i64,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            currency: Currency::cny(),
            tier2_from_minor: 100_000,
            tier3_from_minor: 500_000,
        }
    }
}

impl ApprovalPolicy {
    pub fn tier_of(&self, total: &Money) -> Result<ApprovalTier, MoneyError> {
        if total.currency() != &self.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: total.currency().clone(),
                right: self.currency.clone(),
            });
        }
        Ok(if total.minor() >= self.tier3_from_minor {
            ApprovalTier::Tier3
        } else if total.minor() >= self.tier2_from_minor {
            ApprovalTier::Tier2
        } else {
            ApprovalTier::Tier1
        })
    }
}

/// Who may approve a quoted price of this tier.
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

/// Who may waive a fee of this tier.
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

    fn tier(fen: u32) -> ApprovalTier {
        ApprovalPolicy::default()
            .tier_of(&Money::cny(fen))
            .expect("CNY amount")
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
    fn a_usd_total_has_no_cny_tier() {
        let usd = Money::new(100, Currency::parse("USD").expect("code")).expect("amount");
        assert!(ApprovalPolicy::default().tier_of(&usd).is_err());
    }
}

//! The costs events do not carry from the caller: labour per hour, travel
//! per region, shipping, the factory's repair fee, a replacement unit
//! (DOMAIN.md §10). The policy sets them; each decision records the figure
//! it used in its event, so a later change of rates never alters the past.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::ticket::types::Region;

/// What the company counts as the actual cost of each kind of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRates {
    /// One hour of a technician's labour.
    pub labour_per_hour: Money,
    pub travel_urban: Money,
    pub travel_suburban: Money,
    pub travel_remote: Money,
    /// One shipment (the item back to the customer, a replacement out).
    pub shipping_per_shipment: Money,
    /// What the factory charges for a repair it does.
    pub factory_repair_fee: Money,
    /// A replacement unit sent in an exchange.
    pub replacement_unit: Money,
}

impl CostRates {
    /// The rates ticketd applied before they were configurable (and before
    /// events recorded them). Only for reading events recorded then: a
    /// decision always takes its rates from the policy in force.
    pub fn before_policy() -> Self {
        Self {
            labour_per_hour: Money::cny(8_000),
            travel_urban: Money::cny(5_000),
            travel_suburban: Money::cny(10_000),
            travel_remote: Money::cny(20_000),
            shipping_per_shipment: Money::cny(3_000),
            factory_repair_fee: Money::cny(30_000),
            replacement_unit: Money::cny(150_000),
        }
    }

    /// The cost of one visit to a customer in `region`.
    pub fn travel(&self, region: Region) -> &Money {
        match region {
            Region::Urban => &self.travel_urban,
            Region::Suburban => &self.travel_suburban,
            Region::Remote => &self.travel_remote,
        }
    }
}

//! Complaint routing to departments (DOMAIN.md §6).

use serde::{Deserialize, Serialize};

/// Every complaint is answered within this many hours (001 篇九 二.1).
pub const REPLY_WITHIN_HOURS: i64 = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    ProductQuality,
    PackagingOrSpoilage,
    StaffConduct,
    DeliveryDelay,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    QualityControl,
    AfterSales,
    WarehouseDistribution,
    Sales,
    Logistics,
    AfterSalesManager,
    Design,
    Production,
    Purchasing,
}

/// Where a complaint goes first, and who follows up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    pub departments: Vec<Department>,
}

pub fn route(category: ComplaintCategory) -> Routing {
    let departments = match category {
        ComplaintCategory::ProductQuality => {
            vec![Department::QualityControl, Department::AfterSales]
        }
        ComplaintCategory::PackagingOrSpoilage => vec![Department::WarehouseDistribution],
        ComplaintCategory::StaffConduct => vec![Department::Sales],
        ComplaintCategory::DeliveryDelay => vec![Department::Sales, Department::Logistics],
        ComplaintCategory::Other => vec![Department::AfterSalesManager],
    };
    Routing { departments }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_complaint_goes_to_qc_then_after_sales() {
        assert_eq!(
            route(ComplaintCategory::ProductQuality).departments,
            vec![Department::QualityControl, Department::AfterSales]
        );
    }

    #[test]
    fn damaged_packaging_goes_to_warehouse_and_distribution() {
        assert_eq!(
            route(ComplaintCategory::PackagingOrSpoilage).departments,
            vec![Department::WarehouseDistribution]
        );
    }

    #[test]
    fn staff_attitude_goes_to_sales() {
        assert_eq!(
            route(ComplaintCategory::StaffConduct).departments,
            vec![Department::Sales]
        );
    }

    #[test]
    fn delivery_delay_goes_to_sales_and_logistics() {
        assert_eq!(
            route(ComplaintCategory::DeliveryDelay).departments,
            vec![Department::Sales, Department::Logistics]
        );
    }

    #[test]
    fn anything_else_goes_to_the_after_sales_manager() {
        assert_eq!(
            route(ComplaintCategory::Other).departments,
            vec![Department::AfterSalesManager]
        );
    }
}

//! Business rules as pure functions, each with its own tests.

pub mod approval;
pub mod complaint;
pub mod permission;
pub mod warranty;

pub use approval::{ApprovalPolicy, ApprovalTier};
pub use complaint::{ComplaintCategory, Department};
pub use warranty::{
    ProductLineTerms, Remedy, WarrantyBasis, WarrantyDecision, WarrantyPolicy, WarrantyStatus,
};

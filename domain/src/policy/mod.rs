//! Business rules as pure functions, each with its own tests, and the
//! company's policy file that sets their numbers (`file`).

pub mod approval;
pub mod complaint;
pub mod cost;
pub mod file;
pub mod permission;
pub mod warranty;

pub use approval::{ApprovalPolicy, ApprovalTier, TierRule};
pub use complaint::{ComplaintCategory, Department};
pub use cost::CostRates;
pub use file::{PolicyFileError, PolicyVersion};
pub use warranty::{
    AppliedTerms, CountFrom, ProductLine, ProductLineTerms, Remedy, WarrantyBasis,
    WarrantyDecision, WarrantyPolicy, WarrantyStatus,
};

//! Given/when/then tests of the Ticket aggregate, one file per part of the
//! lifecycle. `fixtures` builds commands and the events they produce.

mod approvals;
mod assigning;
mod branches;
mod complaints;
mod custody;
mod first_contact;
mod fixtures;
mod free_rework;
mod main_path;
mod major_faults;
mod money;
mod permissions;
mod policy;
mod price_cuts;
mod properties;
mod rejections;
mod remedies;
mod rework_and_reopen;
mod short_flows;
mod state;
mod state_rules;
mod timing;
mod trip_report;
mod validation;

//! Given/when/then tests of the Ticket aggregate, one file per part of the
//! lifecycle. `fixtures` builds commands and the events they produce.

mod approvals;
mod branches;
mod complaints;
mod fixtures;
mod main_path;
mod money;
mod permissions;
mod policy;
mod properties;
mod rejections;
mod rework_and_reopen;
mod state;
mod state_rules;
mod timing;
mod validation;

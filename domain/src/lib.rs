//! The after-sales repair ticket domain.
//!
//! Everything here is pure: no database, no network, no wall clock. Time comes
//! in through [`clock::Clock`], which the service injects via
//! [`ticket::TicketServices`].
//!
//! * [`values`] and [`money`]: newtypes that parse and validate their input.
//! * [`policy`]: the business rules as pure functions (warranty and 三包
//!   windows, approval tiers, complaint routing, role permissions).
//! * [`ticket`]: the `Ticket` aggregate, its commands, events and errors.
//! * [`timing`]: when an event happened (stated, checked) versus when it
//!   was recorded.
//! * [`capa`]: the `CorrectiveAction` aggregate (FRACAS, 8D style).

pub mod capa;
pub mod clock;
pub mod money;
pub mod policy;
pub mod roles;
pub mod ticket;
pub mod timing;
pub mod values;

pub use capa::{ActionCommand, ActionError, ActionEvent, CorrectiveAction};
pub use clock::{Clock, FixedClock};
pub use money::{Currency, Money, MoneyError};
pub use roles::{Actor, Role};
pub use ticket::{
    Authored, LocalTime, Ticket, TicketCommand, TicketError, TicketEvent, TicketServices,
    TicketStatus,
};
pub use timing::{Recording, TimingError, TimingPolicy, When};
pub use values::ValueError;

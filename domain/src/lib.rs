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
//! * [`schema`]: each event type's version and the upcasters that read
//!   older shapes.
//! * [`period`]: periods as the Civil Code counts them (every window
//!   that ends on a date).
//! * [`capa`]: the `CorrectiveAction` aggregate (FRACAS, 8D style).

/// `name()` and `NAMES` for an event enum from one list of its variants:
/// `name()`'s match has no wildcard, so a variant missing from the list
/// does not compile, and `NAMES` (what a policy file may name, what the
/// proto's `EventType` lists) is that same list.
macro_rules! event_names {
    ($event:ident; $($variant:ident),* $(,)?) => {
        impl $event {
            /// Every name an event is stored under, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The stable name this event is stored under.
            pub fn name(&self) -> &'static str {
                match self {
                    $($event::$variant { .. } => stringify!($variant),)*
                }
            }
        }
    };
}

pub mod capa;
pub mod clock;
pub mod money;
pub mod period;
pub mod personal;
pub mod policy;
pub mod roles;
pub mod schema;
pub mod ticket;
pub mod timing;
pub mod values;

pub use capa::{ActionCommand, ActionError, ActionEvent, CorrectiveAction};
pub use clock::{Clock, FixedClock};
pub use money::{Currency, Money, MoneyError};
pub use roles::{Actor, Role};
pub use ticket::{
    Authored, LocalTime, PrivacyPolicy, Ticket, TicketCommand, TicketError, TicketEvent,
    TicketServices, TicketStatus,
};
pub use timing::{Recording, TimingError, TimingPolicy, When};
pub use values::ValueError;

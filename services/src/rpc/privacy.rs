//! The Privacy service: erasing a customer's personal data (see
//! `crate::privacy` and docs/PRIVACY.md).

use std::sync::Arc;

use domain::personal::CustomerId;
use domain::values::PhoneNumber;
use domain::Role;
use tonic::{Request, Response, Status};

use super::parse::{self as p, caller, to_timestamp};
use super::pb;
use super::pb::privacy_server::Privacy;
use super::status::{from_sqlx, invalid, invalid_field};
use crate::bus::CommandBus;
use crate::privacy::{erase, PrivacyError};

#[derive(Debug)]
pub struct PrivacyService {
    bus: Arc<CommandBus>,
}

impl PrivacyService {
    pub fn new(bus: Arc<CommandBus>) -> Self {
        Self { bus }
    }

    /// The customer the request names (exactly one of id and phone).
    async fn customer(&self, m: &pb::EraseCustomerRequest) -> Result<CustomerId, Status> {
        let (id, phone) = (m.customer_id.trim(), m.phone.trim());
        match (id.is_empty(), phone.is_empty()) {
            (false, true) => {
                CustomerId::parse(id).map_err(|e| invalid_field("customer_id", &e.to_string()))
            }
            (true, false) => {
                let phone = PhoneNumber::parse(phone).map_err(|e| invalid(&e.at("phone")))?;
                self.bus
                    .keyring()
                    .find_by_phone(&phone)
                    .await
                    .map_err(from_privacy)?
                    .ok_or_else(|| {
                        Status::not_found(
                            "no customer has this phone number (an erased customer is found by customer_id only)",
                        )
                    })
            }
            (true, true) => Err(invalid_field(
                "customer_id",
                "name the customer: customer_id or phone",
            )),
            (false, false) => Err(invalid_field(
                "phone",
                "give customer_id or phone, not both",
            )),
        }
    }
}

fn from_privacy(error: PrivacyError) -> Status {
    match error {
        PrivacyError::Store(e) => from_sqlx(e),
        other => Status::internal(other.to_string()),
    }
}

#[tonic::async_trait]
impl Privacy for PrivacyService {
    async fn erase_customer(
        &self,
        request: Request<pb::EraseCustomerRequest>,
    ) -> Result<Response<pb::EraseCustomerResponse>, Status> {
        let actor = caller(&request)?;
        if actor.role != Role::DataProtectionOfficer {
            return Err(Status::permission_denied(format!(
                "role {} may not erase personal data: only data_protection_officer may",
                actor.role
            )));
        }
        let m = request.into_inner();
        let reason = p::text("reason", &m.reason).map_err(|e| invalid(&e))?;
        let customer = self.customer(&m).await?;
        let now = self.bus.services().clock.now();
        let erased = erase(
            self.bus.db(),
            self.bus.keyring(),
            &customer,
            &actor,
            reason,
            now,
        )
        .await
        .map_err(from_privacy)?
        .ok_or_else(|| Status::not_found(format!("no customer {customer}")))?;
        if !erased.already {
            self.bus.committed();
        }
        Ok(Response::new(pb::EraseCustomerResponse {
            customer_id: erased.customer.to_string(),
            already_erased: erased.already,
            erased_at: Some(to_timestamp(erased.at)),
        }))
    }
}

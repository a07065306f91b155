//! Everything gRPC: the generated code, request parsing, error mapping and
//! the service implementations. Nothing outside this module knows tonic or
//! prost.

pub mod audit;
mod build;
pub mod commands;
pub mod consumers;
pub mod cost;
pub(crate) mod enums;
pub mod events;
pub mod fracas;
pub mod fracas_8d;
pub mod fracas_life;
pub mod import;
pub mod limits;
pub mod observe;
mod pages;
mod parse;
pub mod privacy;
pub mod queries;
pub mod quota;
pub mod sla;
mod status;
pub mod typed;
mod views;

/// Code generated from `proto/repair/v1`.
#[allow(clippy::all, missing_debug_implementations, clippy::unwrap_used)]
pub mod pb {
    tonic::include_proto!("repair.v1");
}

/// The encoded descriptor set, for server reflection.
pub const DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("repair_v1_descriptor");

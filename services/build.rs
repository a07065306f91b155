//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and
//! generates the tonic server and client code plus the descriptor set that
//! server reflection serves.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &[
    "repair/v1/types.proto",
    "repair/v1/event_types.proto",
    "repair/v1/commands.proto",
    "repair/v1/queries.proto",
    "repair/v1/events.proto",
    "repair/v1/audit.proto",
    "repair/v1/cost.proto",
    "repair/v1/fracas.proto",
    "repair/v1/sla.proto",
    "repair/v1/import.proto",
    "repair/v1/privacy.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    // sqlx::migrate! embeds migrations/ at compile time; rebuild when a
    // migration is added or changed.
    println!("cargo:rerun-if-changed=../migrations");
    let descriptors = protox::compile(PROTOS, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("repair_v1_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}

//! The Python example client (examples/python), generated from the protos
//! with grpcio-tools, run against a real server: it drives one repair,
//! reads the BadRequest of a refusal and follows the ticket in the log
//! with typed events. `.ci/run` installs its requirements; elsewhere the
//! test says how when they are missing, and fails under CI.

use std::path::Path;
use std::process::Command;

use crate::helpers::{token, Backend, TestServer};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Whether python3 has what the example needs.
fn python_ready() -> bool {
    Command::new("python3")
        .args(["-c", "import grpc, grpc_tools, grpc_status"])
        .status()
        .is_ok_and(|s| s.success())
}

async fn the_python_example_drives_a_repair_and_follows_it_in_the_log(backend: Backend) {
    if !python_ready() {
        let how = "python3 -m pip install -r examples/python/requirements.txt";
        assert!(
            std::env::var_os("CI").is_none(),
            "the Python example's requirements are missing: {how}"
        );
        eprintln!("skipped: the Python example's requirements are missing ({how})");
        return;
    }
    let server = TestServer::start(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let gen = dir.path().join("gen");
    let generated = Command::new("bash")
        .arg(repo().join("examples/python/generate.sh"))
        .arg(&gen)
        .output()
        .expect("run generate.sh");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let roles = [
        "customer_service",
        "technician",
        "service_manager",
        "qc_inspector",
        "finance",
        "integration",
    ];
    let tokens: serde_json::Map<String, serde_json::Value> = roles
        .iter()
        .map(|r| ((*r).to_owned(), serde_json::Value::String(token(r))))
        .collect();
    let tokens_file = dir.path().join("tokens.json");
    std::fs::write(&tokens_file, serde_json::to_string(&tokens).expect("json")).expect("write");

    let run = tokio::process::Command::new("python3")
        .arg(repo().join("examples/python/client.py"))
        .arg("--target")
        .arg(server.addr.to_string())
        .arg("--tokens")
        .arg(&tokens_file)
        .env("PYTHONPATH", &gen)
        .output()
        .await
        .expect("run client.py");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        out.contains("refused: INVALID_ARGUMENT ['description']"),
        "{out}"
    );
    assert!(out.contains("EVENT_TYPE_QC_PASSED"), "{out}");
    assert!(
        out.contains("ticket_received model=WM-800 customer=Li Lei"),
        "{out}"
    );
    assert!(out.contains("qc_passed inspector=qc_inspector-1"), "{out}");
    assert!(out.contains(": 15 events, received -> closed"), "{out}");
    server.stop().await;
}

crate::on_both_stores!(the_python_example_drives_a_repair_and_follows_it_in_the_log);

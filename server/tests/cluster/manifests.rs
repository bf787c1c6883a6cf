//! The container and Kubernetes files lint and validate: runs `scripts/validate-k8s.sh`
//! (hadolint on the Dockerfile; every kustomize overlay rendered and checked against the
//! Kubernetes schemas with kubernetes-validate; checkov on the Dockerfile and the rendered
//! manifests). The script installs its tools into a venv on first use.

use std::path::Path;
use std::process::Command;

#[test]
fn dockerfile_and_manifests_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("scripts/validate-k8s.sh");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Shown on failure, and with --nocapture.
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "scripts/validate-k8s.sh failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

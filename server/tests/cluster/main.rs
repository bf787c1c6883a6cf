//! Tests of what `stt` needs to run in a cluster, on this machine and without one:
//!
//! - [`cpu_limit`]: the worker pool follows the CPU limit of the pod. Kubernetes turns a
//!   container's CPU limit into a CFS quota on its cgroup; these tests create real cgroups
//!   (v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`, or v2 `cpu.max`), start the real
//!   `stt serve` inside one, and read the worker count it reports.
//! - [`manifests`]: `scripts/validate-k8s.sh` (hadolint on the Dockerfile, the kustomize
//!   overlays rendered and checked against the Kubernetes schemas, checkov on both) passes.
//!
//! Creating cgroups needs root and a writable cgroup filesystem, which CI has. Where they
//! are missing the tests fail and say why; a developer without root may set
//! `STT_SKIP_CGROUP_TESTS=1` to skip only the cgroup tests, which CI (`CI=true`) refuses.

mod cpu_limit;
mod manifests;
mod support;

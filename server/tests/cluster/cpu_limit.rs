//! The worker pool follows the CPU limit: `stt serve` started inside a cgroup with a CFS
//! quota of N CPUs reports floor(N) workers (at least 1, at most the CPUs it may run on),
//! both in its start-up log (`CPU plan ... workers=N`) and in the `stt_workers` gauge.

use crate::support::{hierarchy_or_explain, CpuCgroup, LimitedServer};

/// CPUs this test process may run on (its affinity), which also bounds the server.
fn affinity_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Starts the server under a quota of `cpus` CPUs and checks it plans `expected` workers.
fn assert_workers_under_quota(label: &str, cpus: f64, expected: usize) {
    let Some(hierarchy) = hierarchy_or_explain() else {
        return;
    };
    let group = CpuCgroup::create(&hierarchy, label, cpus)
        .unwrap_or_else(|e| panic!("creating a {cpus}-CPU cgroup: {e}"));
    let server = LimitedServer::start_in(&group);
    assert!(
        group.contains(server.pid()),
        "stt serve (pid {}) is not in {}; /proc/{}/cgroup:\n{}",
        server.pid(),
        group.dir.display(),
        server.pid(),
        std::fs::read_to_string(format!("/proc/{}/cgroup", server.pid())).unwrap_or_default()
    );

    let log = server.log_text();
    let plan = log
        .lines()
        .find(|l| l.contains("CPU plan"))
        .unwrap_or_else(|| panic!("no `CPU plan` line in the log:\n{log}"));
    assert!(
        plan.contains(&format!(" workers={expected} "))
            || plan.ends_with(&format!(" workers={expected}")),
        "with a {cpus}-CPU quota expected {expected} worker(s), the log says: {plan}"
    );
    assert_eq!(
        server.metric("stt_workers"),
        Some(expected as f64),
        "with a {cpus}-CPU quota the stt_workers gauge should be {expected}"
    );
    drop(server);
    drop(group);
}

#[test]
fn one_cpu_quota_gives_one_worker() {
    assert_workers_under_quota("1cpu", 1.0, 1);
}

#[test]
fn two_cpu_quota_gives_two_workers() {
    let expected = 2.min(affinity_cpus());
    if expected < 2 {
        eprintln!(
            "this machine lets the tests use only {} CPU(s): expecting {expected}",
            affinity_cpus()
        );
    }
    assert_workers_under_quota("2cpu", 2.0, expected);
}

#[test]
fn fractional_quota_rounds_down_to_whole_workers() {
    // 1.5 CPUs: a second worker would only be throttled. 0.66 CPUs (a third of this
    // machine, as in the three-pod comparison): still one worker, never zero.
    assert_workers_under_quota("1500m", 1.5, 1);
    assert_workers_under_quota("660m", 0.66, 1);
}

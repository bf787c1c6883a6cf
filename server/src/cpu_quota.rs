//! How many CPUs this process may really use: the smaller of its CPU affinity
//! (`taskset`, cpusets) and its cgroup CPU quota (a Kubernetes CPU limit).
//!
//! A pod limited to 2 CPUs on a 64-core node sees 64 cores in `/proc/cpuinfo`; sizing
//! the worker pool from that would start 64 workers that the kernel then throttles
//! to 2 CPUs' worth of time, which is slower than 2 workers. The parsers here are
//! plain functions over file contents so they are tested without a cgroup.

use std::path::{Path, PathBuf};

/// CPUs allowed by a cgroup v2 `cpu.max` file (`"<quota> <period>"` or `"max <period>"`);
/// `None` when unlimited or unreadable.
pub fn parse_cpu_max(content: &str) -> Option<f64> {
    let mut fields = content.split_whitespace();
    let quota = fields.next()?;
    let period: f64 = fields.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    if quota == "max" {
        return None;
    }
    quota_over_period(quota.parse().ok()?, period)
}

/// CPUs allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (`-1` = unlimited).
pub fn parse_cfs(quota_us: &str, period_us: &str) -> Option<f64> {
    let quota: f64 = quota_us.trim().parse().ok()?;
    let period: f64 = period_us.trim().parse().ok()?;
    quota_over_period(quota, period)
}

fn quota_over_period(quota: f64, period: f64) -> Option<f64> {
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// A cgroup hierarchy mounted on this machine, from one line of `/proc/self/mountinfo`.
#[derive(Debug, PartialEq)]
struct CgroupMount {
    /// The cgroup path that the mount point shows (`/` outside nested namespaces).
    root: String,
    mount_point: PathBuf,
    /// true for the unified (v2) hierarchy; false for a v1 hierarchy with the cpu controller.
    v2: bool,
}

/// The cgroup mounts that can carry a CPU limit (v2, or v1 with the `cpu` controller).
fn parse_mountinfo(content: &str) -> Vec<CgroupMount> {
    content
        .lines()
        .filter_map(|line| {
            // Fields: id parent major:minor root mount-point options [optional...] - fstype source super-options
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let (root, mount_point) = (left.get(3)?, left.get(4)?);
            let fstype = *right.first()?;
            let v2 = match fstype {
                "cgroup2" => true,
                "cgroup" if right.get(2)?.split(',').any(|o| o == "cpu") => false,
                _ => return None,
            };
            Some(CgroupMount {
                root: root.to_string(),
                mount_point: PathBuf::from(mount_point),
                v2,
            })
        })
        .collect()
}

/// This process's cgroup paths from `/proc/self/cgroup`: (v2 path, v1 cpu-controller path).
fn parse_proc_cgroup(content: &str) -> (Option<String>, Option<String>) {
    let (mut v2, mut v1) = (None, None);
    for line in content.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "cpu") {
            v1 = Some(path.to_string());
        }
    }
    (v2, v1)
}

/// The directory of `cgroup_path` under `mount`, or `None` if it lies outside the mount.
fn cgroup_dir(mount: &CgroupMount, cgroup_path: &str) -> Option<PathBuf> {
    let relative = if mount.root == "/" {
        cgroup_path
    } else {
        cgroup_path.strip_prefix(mount.root.as_str())?
    };
    Some(mount.mount_point.join(relative.trim_start_matches('/')))
}

/// The tightest CPU limit on `dir` and its ancestors up to `mount_point`: a parent's
/// limit binds its children even when theirs is unset.
fn tightest_limit(
    dir: &Path,
    mount_point: &Path,
    read_limit: impl Fn(&Path) -> Option<f64>,
) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut current = Some(dir);
    while let Some(d) = current {
        if let Some(limit) = read_limit(d) {
            best = Some(best.map_or(limit, |b: f64| b.min(limit)));
        }
        if d == mount_point || !d.starts_with(mount_point) {
            break;
        }
        current = d.parent();
    }
    best
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The cgroup CPU quota of this process in CPUs (fractional), if one is set.
pub fn cgroup_cpu_limit() -> Option<f64> {
    let mounts = parse_mountinfo(&read(Path::new("/proc/self/mountinfo"))?);
    let (v2_path, v1_path) = parse_proc_cgroup(&read(Path::new("/proc/self/cgroup"))?);
    let mut limits = Vec::new();
    for mount in &mounts {
        let path = if mount.v2 { &v2_path } else { &v1_path };
        let Some(dir) = path.as_deref().and_then(|p| cgroup_dir(mount, p)) else {
            continue;
        };
        let limit = if mount.v2 {
            tightest_limit(&dir, &mount.mount_point, |d| {
                parse_cpu_max(&read(&d.join("cpu.max"))?)
            })
        } else {
            tightest_limit(&dir, &mount.mount_point, |d| {
                parse_cfs(
                    &read(&d.join("cpu.cfs_quota_us"))?,
                    &read(&d.join("cpu.cfs_period_us"))?,
                )
            })
        };
        limits.extend(limit);
    }
    limits.into_iter().reduce(f64::min)
}

/// Whole CPUs to plan for, given the affinity count and an optional quota: a 1.5-CPU
/// quota gets 1 worker (a second one would be throttled), never fewer than 1.
pub fn effective_cpus(affinity: usize, quota_cpus: Option<f64>) -> usize {
    let from_quota = quota_cpus.map_or(usize::MAX, |q| q.floor().max(1.0) as usize);
    affinity.min(from_quota).max(1)
}

/// The CPUs this process may use (affinity and cgroup quota), at least 1.
pub fn available_cpus() -> usize {
    let affinity = std::thread::available_parallelism().map_or(1, |n| n.get());
    effective_cpus(affinity, cgroup_cpu_limit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2_cpu_max() {
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(2.0));
        assert_eq!(parse_cpu_max("50000 100000"), Some(0.5));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max(""), None);
        assert_eq!(parse_cpu_max("garbage 100000"), None);
        assert_eq!(
            parse_cpu_max("150000"),
            Some(1.5),
            "period defaults to 100 ms"
        );
    }

    #[test]
    fn cgroup_v1_cfs_quota() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("200000", "100000"), Some(2.0));
        assert_eq!(parse_cfs("100000", "0"), None);
        assert_eq!(parse_cfs("", "100000"), None);
    }

    #[test]
    fn quota_rounds_down_but_never_to_zero() {
        assert_eq!(effective_cpus(64, Some(2.0)), 2);
        assert_eq!(effective_cpus(64, Some(2.9)), 2);
        assert_eq!(effective_cpus(64, Some(0.5)), 1);
        assert_eq!(effective_cpus(1, Some(4.0)), 1, "affinity binds too");
        assert_eq!(effective_cpus(8, None), 8);
        assert_eq!(effective_cpus(0, None), 1);
    }

    #[test]
    fn mountinfo_finds_v1_cpu_and_v2_hierarchies() {
        let mountinfo = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 23 0:40 /kubepods/pod1 /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
";
        let mounts = parse_mountinfo(mountinfo);
        assert_eq!(
            mounts,
            vec![
                CgroupMount {
                    root: "/".into(),
                    mount_point: "/sys/fs/cgroup/cpu,cpuacct".into(),
                    v2: false
                },
                CgroupMount {
                    root: "/kubepods/pod1".into(),
                    mount_point: "/sys/fs/cgroup/unified".into(),
                    v2: true
                },
            ]
        );
        // A path inside the namespaced root maps under the mount point; one outside does not.
        assert_eq!(
            cgroup_dir(&mounts[1], "/kubepods/pod1/ctr").unwrap(),
            PathBuf::from("/sys/fs/cgroup/unified/ctr")
        );
        assert_eq!(cgroup_dir(&mounts[1], "/elsewhere"), None);
        assert_eq!(
            cgroup_dir(&mounts[0], "/").unwrap(),
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/")
        );
    }

    #[test]
    fn proc_cgroup_lines() {
        let v1 = "4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n";
        assert_eq!(
            parse_proc_cgroup(v1),
            (Some("/".into()), Some("/docker/abc".into()))
        );
        let v2 = "0::/kubepods.slice/pod.slice/ctr.scope\n";
        assert_eq!(
            parse_proc_cgroup(v2),
            (Some("/kubepods.slice/pod.slice/ctr.scope".into()), None)
        );
    }

    #[test]
    fn parent_limits_bind_children() {
        let root = Path::new("/sys/fs/cgroup");
        let dir = Path::new("/sys/fs/cgroup/a/b");
        let limit = tightest_limit(dir, root, |d| match d.to_str().unwrap() {
            "/sys/fs/cgroup/a/b" => None,
            "/sys/fs/cgroup/a" => Some(3.0),
            "/sys/fs/cgroup" => Some(8.0),
            _ => panic!("walked above the mount: {}", d.display()),
        });
        assert_eq!(limit, Some(3.0));
    }

    #[test]
    fn this_machine_has_at_least_one_cpu() {
        assert!(available_cpus() >= 1);
    }
}

//! Fixtures: CPU-limited cgroups (v1 or v2) that clean up after themselves, and a real
//! `stt serve` started inside one on a free loopback port.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MODEL: &str = "tiny.en";

/// CFS period used for every quota, as the kubelet does (100 ms).
pub const PERIOD_US: u64 = 100_000;

/// Where CPU quotas can be set on this machine.
#[derive(Debug, Clone)]
pub enum Hierarchy {
    /// A cgroup v1 hierarchy with the `cpu` controller, mounted here.
    V1(PathBuf),
    /// The cgroup v2 (unified) hierarchy, mounted here, with the `cpu` controller available.
    V2(PathBuf),
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value)
        .map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()))
}

/// The effective user id, from `/proc/self/status`.
fn euid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The mount points of cgroup hierarchies that can carry a CPU quota, v1 first (on a
/// hybrid machine the `cpu` controller is bound to v1 and the unified tree has none).
fn find_hierarchy() -> Result<Hierarchy, String> {
    let mountinfo = read(Path::new("/proc/self/mountinfo"))?;
    let mut v2 = None;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = left.split(' ').nth(4).unwrap_or_default();
        let mut right = right.split(' ');
        let fstype = right.next().unwrap_or_default();
        let super_options = right.nth(1).unwrap_or_default();
        if fstype == "cgroup" && super_options.split(',').any(|o| o == "cpu") {
            return Ok(Hierarchy::V1(PathBuf::from(mount_point)));
        }
        if fstype == "cgroup2" {
            let controllers =
                std::fs::read_to_string(Path::new(mount_point).join("cgroup.controllers"))
                    .unwrap_or_default();
            if controllers.split_whitespace().any(|c| c == "cpu") {
                v2 = Some(Hierarchy::V2(PathBuf::from(mount_point)));
            }
        }
    }
    v2.ok_or_else(|| {
        "no cgroup hierarchy with the cpu controller is mounted (neither v1 `cpu` nor v2 with `cpu` in cgroup.controllers)".to_string()
    })
}

/// Why CPU-limited cgroups cannot be made here, if they cannot; `Ok` with the hierarchy.
pub fn cgroup_support() -> Result<Hierarchy, String> {
    if euid() != Some(0) {
        return Err(format!(
            "these tests create cgroups and must run as root (euid is {:?})",
            euid()
        ));
    }
    let hierarchy = find_hierarchy()?;
    // Prove the filesystem is writable with a throw-away group.
    let probe = CpuCgroup::create(&hierarchy, "probe", 1.0)?;
    drop(probe);
    Ok(hierarchy)
}

/// The hierarchy to test with, or a panic that says what is missing. `STT_SKIP_CGROUP_TESTS=1`
/// turns the panic into `None` (a skip that says so), except in CI.
pub fn hierarchy_or_explain() -> Option<Hierarchy> {
    match cgroup_support() {
        Ok(h) => Some(h),
        Err(why) => {
            let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
            let skip = std::env::var("STT_SKIP_CGROUP_TESTS").is_ok_and(|v| v == "1");
            if skip && !in_ci {
                eprintln!("SKIPPED (STT_SKIP_CGROUP_TESTS=1): {why}");
                return None;
            }
            panic!(
                "cannot test CPU limits: {why}.\nRun the tests as root on a machine with a writable cgroup filesystem (CI does){}",
                if in_ci {
                    "; STT_SKIP_CGROUP_TESTS is ignored in CI."
                } else {
                    ", or set STT_SKIP_CGROUP_TESTS=1 to skip these tests on purpose."
                }
            );
        }
    }
}

/// A cgroup with a CFS CPU quota, removed (after its processes are gone) when dropped.
pub struct CpuCgroup {
    pub dir: PathBuf,
    hierarchy: Hierarchy,
}

impl CpuCgroup {
    /// Creates `stt-test-<pid>-<n>-<label>` at the top of the hierarchy with a quota of
    /// `cpus` CPUs per period, the way the kubelet applies a container's CPU limit.
    pub fn create(hierarchy: &Hierarchy, label: &str, cpus: f64) -> Result<CpuCgroup, String> {
        static SERIAL: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "stt-test-{}-{}-{label}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        );
        let quota_us = (cpus * PERIOD_US as f64).round() as u64;
        let root = match hierarchy {
            Hierarchy::V1(root) | Hierarchy::V2(root) => root,
        };
        if let Hierarchy::V2(root) = hierarchy {
            // Children get the cpu controller only if the parent delegates it.
            let control = root.join("cgroup.subtree_control");
            if !read(&control)?.split_whitespace().any(|c| c == "cpu") {
                write(&control, "+cpu")?;
            }
        }
        let dir = root.join(name);
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot create the cgroup {}: {e}", dir.display()))?;
        let group = CpuCgroup {
            dir,
            hierarchy: hierarchy.clone(),
        };
        match hierarchy {
            Hierarchy::V1(_) => {
                write(&group.dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(&group.dir.join("cpu.cfs_quota_us"), &quota_us.to_string())?;
            }
            Hierarchy::V2(_) => {
                write(
                    &group.dir.join("cpu.max"),
                    &format!("{quota_us} {PERIOD_US}"),
                )?;
            }
        }
        Ok(group)
    }

    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// The path of this group as `/proc/PID/cgroup` shows it.
    pub fn relative_path(&self) -> String {
        let root = match &self.hierarchy {
            Hierarchy::V1(root) | Hierarchy::V2(root) => root,
        };
        format!("/{}", self.dir.strip_prefix(root).unwrap().display())
    }

    /// Whether `pid` is a member of this group, by `/proc/PID/cgroup`.
    pub fn contains(&self, pid: u32) -> bool {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
            return false;
        };
        let wanted = self.relative_path();
        text.lines().any(|line| {
            let mut parts = line.splitn(3, ':');
            let (id, controllers, path) = (parts.next(), parts.next(), parts.next());
            let right_tree = match self.hierarchy {
                Hierarchy::V1(_) => controllers.is_some_and(|c| c.split(',').any(|c| c == "cpu")),
                Hierarchy::V2(_) => id == Some("0"),
            };
            right_tree && path == Some(wanted.as_str())
        })
    }
}

impl Drop for CpuCgroup {
    fn drop(&mut self) {
        // A group can only be removed once empty: give stray members back to the parent.
        let parent_procs = self.dir.parent().unwrap().join("cgroup.procs");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let members = std::fs::read_to_string(self.procs_file()).unwrap_or_default();
            for pid in members.split_whitespace() {
                let _ = std::fs::write(&parent_procs, pid);
            }
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(e) if Instant::now() > deadline => {
                    eprintln!("warning: cannot remove {}: {e}", self.dir.display());
                    return;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// Makes sure the model is installed, fetching it as a user would (once per run).
pub fn ensure_model() {
    static FETCHED: Mutex<bool> = Mutex::new(false);
    let mut fetched = FETCHED.lock().unwrap_or_else(|p| p.into_inner());
    if *fetched {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_stt"))
        .args(["models", "fetch", MODEL, "silero-vad"])
        .output()
        .expect("run stt models fetch");
    assert!(
        out.status.success(),
        "fetching {MODEL} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    *fetched = true;
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `stt serve` started inside a cgroup; killed when dropped (before its cgroup goes).
pub struct LimitedServer {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl LimitedServer {
    /// Starts `stt serve` with no worker flags, so it sizes its pool itself. The shell
    /// wrapper puts itself into the group and then `exec`s the server, so the server is
    /// inside the group from its first instruction (as in a container).
    pub fn start_in(group: &CpuCgroup) -> LimitedServer {
        ensure_model();
        let port = free_port();
        let log = std::env::temp_dir().join(format!("stt-cluster-test-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create server log");
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#"echo $$ > "$1" && shift && exec "$@""#)
            .arg("stt-in-cgroup")
            .arg(group.procs_file())
            .arg(env!("CARGO_BIN_EXE_stt"))
            .args(["serve", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--model", MODEL])
            // Whatever the caller's environment says, the pool must come from the quota.
            .env_remove("STT_WORKERS")
            .env_remove("STT_THREADS_PER_JOB")
            .env("STT_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn sh -c ... stt serve");
        let mut server = LimitedServer { child, port, log };
        server.wait_ready(Duration::from_secs(180));
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("stt serve exited early ({status}):\n{}", self.log_text());
            }
            if http_get(self.port, "/readiness").is_ok_and(|(status, _)| status == 200) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "stt serve not ready within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The value of an unlabelled Prometheus sample, e.g. `stt_workers`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (status, body) = http_get(self.port, "/metrics").ok()?;
        assert_eq!(status, 200, "GET /metrics: {body}");
        body.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }
}

impl Drop for LimitedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A plain HTTP/1.0 GET on loopback: (status, body).
pub fn http_get(port: u16, path: &str) -> Result<(u16, String), String> {
    use std::io::Write;
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    Ok((status, body.to_string()))
}

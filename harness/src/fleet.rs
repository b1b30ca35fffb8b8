//! The instances of every function: real processes of the release binaries, each polling its own
//! Runtime API endpoint, fed from its function's shared queue. A killed or crashed instance is
//! replaced, as Lambda replaces a failed execution environment.

use crate::runtime::{Endpoint, Queue, Slot};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Extra environment for one instance: `(function, slot) -> [(name, value)]`.
pub type EnvFor = Arc<dyn Fn(&str, Slot) -> Vec<(String, String)> + Send + Sync>;

/// One instance slot: the current process and its endpoint.
pub struct Instance {
    pub function: String,
    pub slot: Slot,
    pid: AtomicU32,
    endpoint: Mutex<Option<Arc<Endpoint>>>,
    /// When the current process was started and when it first polled `next`.
    started: Mutex<Option<Instant>>,
    pub starts: AtomicUsize,
    pub kills: AtomicUsize,
}

impl Instance {
    /// SIGKILLs the current process (no chance to clean up, as when Lambda reclaims an
    /// environment). Returns whether there was one to kill.
    pub fn kill(&self) -> bool {
        let pid = self.pid.swap(0, Ordering::SeqCst);
        if pid == 0 {
            return false;
        }
        self.kills.fetch_add(1, Ordering::SeqCst);
        // SAFETY: kill(2) with a pid this harness spawned; the worst case of pid reuse within
        // the moment since is a signal to a process that is not ours, which the harness's
        // loopback-only processes make vanishingly unlikely.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) == 0 }
    }

    /// The current process id (0 while none is running).
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::SeqCst)
    }

    /// Process start → first `next` poll of the current process, once it has polled.
    pub fn init_time(&self) -> Option<Duration> {
        let started = (*self.started.lock().ok()?)?;
        let endpoint = self.endpoint.lock().ok()?.clone()?;
        Some(endpoint.first_poll()?.saturating_duration_since(started))
    }
}

/// All instances of all functions.
pub struct Fleet {
    queues: HashMap<String, Queue>,
    instances: Vec<Arc<Instance>>,
    stopping: Arc<AtomicBool>,
    supervisors: Vec<tokio::task::JoinHandle<()>>,
}

impl Fleet {
    /// Starts `instances` processes of each binary in `functions` (from `binaries`), with
    /// `env_for` adding each instance's environment.
    pub async fn start(
        binaries: &std::path::Path,
        functions: &[&str],
        instances: usize,
        env_for: EnvFor,
    ) -> Self {
        let stopping = Arc::new(AtomicBool::new(false));
        let mut queues = HashMap::new();
        let mut all = Vec::new();
        let mut supervisors = Vec::new();
        for function in functions {
            let queue = Queue::default();
            queues.insert((*function).to_owned(), queue.clone());
            for slot in 0..instances {
                let instance = Arc::new(Instance {
                    function: (*function).to_owned(),
                    slot,
                    pid: AtomicU32::new(0),
                    endpoint: Mutex::new(None),
                    started: Mutex::new(None),
                    starts: AtomicUsize::new(0),
                    kills: AtomicUsize::new(0),
                });
                all.push(instance.clone());
                let binary = binaries.join(function);
                supervisors.push(tokio::spawn(supervise(
                    instance,
                    binary,
                    queue.clone(),
                    env_for.clone(),
                    stopping.clone(),
                )));
            }
        }
        Self {
            queues,
            instances: all,
            stopping,
            supervisors,
        }
    }

    pub fn queue(&self, function: &str) -> Option<&Queue> {
        self.queues.get(function)
    }

    pub fn instances(&self) -> &[Arc<Instance>] {
        &self.instances
    }

    pub fn instance(&self, function: &str, slot: Slot) -> Option<Arc<Instance>> {
        self.instances
            .iter()
            .find(|i| i.function == function && i.slot == slot)
            .cloned()
    }

    /// Waits until every instance has polled `next` once (all inits done), or `timeout`.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.instances.iter().all(|i| i.init_time().is_some()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Processes started so far (first starts and replacements).
    pub fn starts(&self) -> usize {
        self.instances
            .iter()
            .map(|i| i.starts.load(Ordering::SeqCst))
            .sum()
    }

    pub fn kills(&self) -> usize {
        self.instances
            .iter()
            .map(|i| i.kills.load(Ordering::SeqCst))
            .sum()
    }

    /// Stops every process (SIGKILL: nothing is held in them) and their supervisors.
    pub async fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        for instance in &self.instances {
            instance.kill();
        }
        for supervisor in self.supervisors {
            let _ = tokio::time::timeout(Duration::from_secs(5), supervisor).await;
        }
    }
}

/// Where an instance's output goes, its log lines (stdout) and anything on stderr:
/// `target/harness-logs/<function>-<slot>.log`, appended across restarts, so the console shows
/// the harness's progress and a failure can still be read up (the bench reads init's profile
/// there). A file costs a write as a pipe to Lambda's log agent does.
pub fn log_path(function: &str, slot: Slot) -> PathBuf {
    crate::release_dir()
        .join("../harness-logs")
        .join(format!("{function}-{slot}.log"))
}

fn log_file(function: &str, slot: Slot) -> std::process::Stdio {
    let path = log_path(function, slot);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let file = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    });
    match file {
        Ok(file) => file.into(),
        Err(_) => std::process::Stdio::null(),
    }
}

/// Keeps one process running in `instance`'s slot until the fleet stops.
async fn supervise(
    instance: Arc<Instance>,
    binary: PathBuf,
    queue: Queue,
    env_for: EnvFor,
    stopping: Arc<AtomicBool>,
) {
    while !stopping.load(Ordering::SeqCst) {
        let endpoint = match Endpoint::start(queue.clone(), &instance.function, instance.slot).await
        {
            Ok(endpoint) => Arc::new(endpoint),
            Err(err) => {
                tracing::error!(error = %err, "cannot start a Runtime API endpoint");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut command = tokio::process::Command::new(&binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", endpoint.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &instance.function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_LEVEL", "ERROR")
            .stdin(std::process::Stdio::null())
            .stdout(log_file(&instance.function, instance.slot))
            .stderr(log_file(&instance.function, instance.slot))
            .kill_on_drop(true);
        for (name, value) in env_for(&instance.function, instance.slot) {
            command.env(name, value);
        }
        if let Ok(mut slot) = instance.endpoint.lock() {
            *slot = Some(endpoint.clone());
        }
        if let Ok(mut started) = instance.started.lock() {
            *started = Some(Instant::now());
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                tracing::error!(error = %err, binary = %binary.display(), "cannot start a function; build it with `cargo build --release`");
                return;
            }
        };
        instance.starts.fetch_add(1, Ordering::SeqCst);
        instance
            .pid
            .store(child.id().unwrap_or(0), Ordering::SeqCst);
        let timed_out = tokio::select! {
            _ = child.wait() => false,
            () = endpoint.timed_out() => {
                // Lambda stops an environment whose invocation ran past its timeout.
                instance.kill();
                let _ = child.wait().await;
                true
            }
        };
        instance.pid.store(0, Ordering::SeqCst);
        // Whatever the process held is lost with it: its caller hears so (API Gateway's 502).
        endpoint.fail_held(if timed_out {
            "Task timed out: the invocation ran past the function's timeout"
        } else {
            "the function instance died during the invocation"
        });
    }
}

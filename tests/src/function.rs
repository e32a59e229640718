//! A compiled function binary running against a [`RuntimeApi`].

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::runtime_api::RuntimeApi;

/// A function process; killed (by PID) when dropped.
#[derive(Debug)]
pub struct FunctionProcess {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    stdout: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Collects the lines of `pipe` into `sink` on a thread of its own.
fn collect_lines(
    pipe: impl std::io::Read + Send + 'static,
    sink: &Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    let sink = Arc::clone(sink);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            match line {
                Ok(line) => sink.lock().unwrap().push(line),
                Err(_) => break,
            }
        }
    })
}

impl FunctionProcess {
    /// Starts `binary` as a Lambda runtime against `api`, with the usual
    /// `AWS_LAMBDA_*` variables and the extra `env`.
    pub fn start(binary: &Path, api: &RuntimeApi, env: &[(&str, &str)]) -> FunctionProcess {
        FunctionProcess::spawn(lambda_command(binary, &api.address()), env)
    }

    /// Starts `command` (e.g. a [`lambda_command`] run under a profiler)
    /// with the extra `env`, its stderr collected.
    pub fn spawn(mut command: Command, env: &[(&str, &str)]) -> FunctionProcess {
        let binary = command.get_program().to_owned();
        let binary = Path::new(&binary);
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let (stderr, stdout) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let readers = vec![
            collect_lines(child.stderr.take().expect("piped stderr"), &stderr),
            collect_lines(child.stdout.take().expect("piped stdout"), &stdout),
        ];
        FunctionProcess { child, stderr, stdout, readers }
    }

    /// Sends SIGTERM to the process (what Lambda sends before it stops an
    /// execution environment).
    pub fn terminate(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM {}", self.child.id());
    }

    /// The exit status, once the process has exited by itself.
    pub fn exit_code(&mut self) -> Option<i32> {
        self.child.try_wait().ok().flatten().and_then(|status| status.code())
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits (polling, up to `timeout`) for the process to exit by itself;
    /// whether it did.
    pub async fn wait_exit(&mut self, timeout: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        while self.is_running() && started.elapsed() < timeout {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        !self.is_running()
    }

    /// Stops the process and returns every line it wrote to stderr.
    pub fn stop(mut self) -> Vec<String> {
        self.kill();
        self.stderr.lock().unwrap().clone()
    }

    /// Stops the process and returns every line it wrote to stdout (where
    /// halo writes EMF metrics inside Lambda) and to stderr (its logs).
    pub fn stop_with_stdout(mut self) -> (Vec<String>, Vec<String>) {
        self.kill();
        let stdout = self.stdout.lock().unwrap().clone();
        (stdout, self.stderr.lock().unwrap().clone())
    }

    /// Waits up to `timeout` until `count` stderr lines (halo's log lines)
    /// contain `text`.
    pub async fn wait_for_stderr(&self, text: &str, count: usize, timeout: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < timeout {
            if self.stderr.lock().unwrap().iter().filter(|line| line.contains(text)).count() >= count {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        false
    }

    /// The stderr lines written so far.
    pub fn stderr_so_far(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A command running `binary` as Lambda would: a cleared environment with
/// `PATH`, the `AWS_LAMBDA_*` variables, the Runtime API at `api_address`,
/// and an SDK that never probes instance metadata.
pub fn lambda_command(binary: &Path, api_address: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api_address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "halo-test")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "7")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/halo-test")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[7]abc")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// Parses every line as one JSON object without duplicated keys
/// ([`halo::log::CapturedLines::parse_line`]), panicking with the line if
/// one is not: every e2e test that reads a function's logs checks this.
pub fn parse_json_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|line| match halo::log::CapturedLines::parse_line(line) {
            Ok(value) => value,
            Err(problem) => panic!("stderr line is not a well-formed JSON object ({problem}): {line}"),
        })
        .collect()
}

//! cargo-lambda's Lambda emulator (`cargo lambda watch`) on loopback, with
//! compiled function binaries started against it: halo's examples run the
//! way a Rust Lambda developer runs them locally.
//!
//! `cargo lambda watch` builds and runs the function itself (`cargo run`),
//! a build of its own that takes minutes. Its `--only-lambda-apis` mode
//! serves the same emulator and leaves starting the function to the user:
//! [`Emulator::start`] runs it that way on a free port and
//! [`Emulator::start_function`] starts a binary cargo has already built
//! (`env!("CARGO_BIN_EXE_…")` in an integration test), with the environment
//! `cargo lambda watch` gives the functions it starts.
//!
//! What cargo-lambda 1.9.2 does in that mode (read from its source and its
//! output):
//!
//! - It prints the variables the function needs, `AWS_LAMBDA_RUNTIME_API=
//!   http://ADDR:PORT/.rt` (a scheme and a path, which `lambda_runtime`
//!   accepts), `AWS_LAMBDA_FUNCTION_NAME=_`, `AWS_LAMBDA_FUNCTION_VERSION=1`
//!   and `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=4096`. A runtime on that bare
//!   address serves the default function `_`. Each named function has a
//!   queue of its own, polled at `…/.rt/NAME/2018-06-01/runtime/…`: a
//!   binary serving `NAME` needs `AWS_LAMBDA_RUNTIME_API=…/.rt/NAME`, which
//!   is what `cargo lambda watch` sets (with `AWS_LAMBDA_FUNCTION_NAME=NAME`
//!   and `AWS_LAMBDA_MAX_CONCURRENCY=1`) for the functions it starts.
//!   `AWS_LAMBDA_FUNCTION_NAME` routes nothing.
//! - `--env-var` / `--env-file` only reach functions the emulator starts
//!   itself: in this mode the test sets the function's environment.
//! - `NAME` must be a binary target of the workspace (its
//!   `cargo metadata`), else the emulator answers `404 Missing function`.
//! - `GET …/invocation/next` waits until an event is queued (no timeout);
//!   every event carries `Lambda-Runtime-Deadline-Ms: 600000`, a duration
//!   where Lambda sends an epoch time in milliseconds.
//! - `http://ADDR:PORT/lambda-url/NAME/PATH` (Function URL emulation) turns
//!   the request into an API Gateway HTTP API (v2) event for `NAME` with
//!   `rawPath` `/PATH`; a text body (no content type, `text/*`,
//!   `application/json…`) is sent as is, any other base64-encoded. The
//!   function's answer is read as a v2 response (`cookies` included: an
//!   answer without it is a plain-text `500`); an error answer
//!   (`…/error`) is passed on as a `500` with the function's error body.
//! - `cargo lambda invoke NAME` posts the payload to
//!   `/2015-03-31/functions/NAME/invocations` and prints the function's
//!   answer on stdout; an error answer makes it exit with a failure.
//! - An init error (`…/runtime/init/error`) answers the first queued event
//!   (of any function) as a success: `cargo lambda invoke` prints the
//!   `Runtime.InitError` body and exits with status 0.
//! - A path that is no route of the emulator is a Function URL call of the
//!   default function `_`, queued until some runtime polls the bare
//!   address: the readiness probe therefore posts a response for an unknown
//!   request id, which the emulator acknowledges at once.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::function::FunctionProcess;

/// How long the emulator may take to start answering (it reads the
/// workspace's `cargo metadata` first).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one `cargo lambda invoke` or Function URL request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the emulator gets to stop after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// The cargo-lambda executable: `.venv/bin/cargo-lambda` at the workspace
/// root (installed by `./scripts/test.sh`). Panics if it is missing.
pub fn cargo_lambda_path() -> PathBuf {
    let path = crate::workspace_root().join(".venv/bin/cargo-lambda");
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test.sh (it installs cargo-lambda into .venv)",
        path.display()
    );
    path
}

/// A `cargo lambda …` command (the executable run directly, first argument
/// `lambda`), in the workspace root, with no proxy between it and loopback.
fn cargo_lambda_command() -> Command {
    let mut command = Command::new(cargo_lambda_path());
    command.arg("lambda").current_dir(crate::workspace_root());
    for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        command.env_remove(proxy);
    }
    command.env("NO_PROXY", "127.0.0.1,localhost").env("CARGO_LAMBDA_COLOR", "never").env("NO_COLOR", "1");
    command
}

/// Collects the lines of `pipe` into `sink` on a thread of its own (which
/// ends when the pipe closes).
fn collect_lines(pipe: impl std::io::Read + Send + 'static, sink: &Arc<Mutex<Vec<String>>>) {
    let sink = Arc::clone(sink);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            match line {
                Ok(line) => sink.lock().unwrap_or_else(|p| p.into_inner()).push(line),
                Err(_) => break,
            }
        }
    });
}

/// `cargo lambda watch --only-lambda-apis` on a free loopback port. Stopped
/// by its PID when dropped (SIGTERM, SIGKILL after 3 s). In this mode it
/// starts no process of its own once it answers (it runs `cargo metadata`
/// before), and it stays in the test's process group, so that a Ctrl-C of
/// the test run stops it too.
#[derive(Debug)]
pub struct Emulator {
    port: u16,
    child: Option<Child>,
    output: Arc<Mutex<Vec<String>>>,
    printed_env: BTreeMap<String, String>,
}

impl Emulator {
    /// Starts the emulator on `127.0.0.1` and a free port, and waits (up to
    /// 60 s, polling) until it has printed the variables a function needs
    /// and answers HTTP.
    pub async fn start() -> Emulator {
        let port = crate::free_port();
        let mut command = cargo_lambda_command();
        command
            .args(["watch", "--only-lambda-apis", "--ignore-changes", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .arg("--manifest-path")
            .arg(crate::workspace_root().join("Cargo.toml"))
            .env("RUST_LOG", "cargo_lambda=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start cargo lambda watch: {e}"));
        let output = Arc::new(Mutex::new(Vec::new()));
        collect_lines(child.stdout.take().expect("piped stdout"), &output);
        collect_lines(child.stderr.take().expect("piped stderr"), &output);
        let mut emulator = Emulator { port, child: Some(child), output, printed_env: BTreeMap::new() };
        emulator.wait_ready().await;
        emulator
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("cargo lambda watch exited ({status}) before it answered:\n{}", self.output().join("\n"));
            }
            self.printed_env = printed_env(&self.output());
            if self.printed_env.contains_key("AWS_LAMBDA_RUNTIME_API") && self.probe().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "cargo lambda watch did not answer on port {} within {READY_TIMEOUT:?}:\n{}",
            self.port,
            self.output().join("\n")
        );
    }

    /// Posts a response for a request id nobody asked for: the emulator
    /// acknowledges it with `200` and changes nothing.
    async fn probe(&self) -> bool {
        let probe = http_request(
            self.port,
            "POST",
            "/.rt/2018-06-01/runtime/invocation/readiness-probe/response",
            &[],
            b"{}",
            Duration::from_secs(2),
        )
        .await;
        probe.is_ok_and(|r| r.status == 200)
    }

    /// The port it listens on (`127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every line the emulator wrote so far (stdout and stderr; its log at
    /// debug level).
    pub fn output(&self) -> Vec<String> {
        self.output.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The variables the emulator printed for a function to set (`KEY=VALUE`
    /// lines after "you MUST set these variables").
    pub fn printed_env(&self) -> &BTreeMap<String, String> {
        &self.printed_env
    }

    /// `AWS_LAMBDA_RUNTIME_API` for a binary serving `function`: the
    /// printed address followed by `/function`.
    pub fn runtime_api(&self, function: &str) -> String {
        format!("{}/{function}", self.printed_env["AWS_LAMBDA_RUNTIME_API"].trim_end_matches('/'))
    }

    /// A command running `binary` as `function` the way `cargo lambda watch`
    /// runs the functions it starts: a cleared environment with `PATH`,
    /// `AWS_LAMBDA_FUNCTION_VERSION` and `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` as
    /// printed, `AWS_LAMBDA_RUNTIME_API` from [`Emulator::runtime_api`],
    /// `AWS_LAMBDA_FUNCTION_NAME=function`, `AWS_LAMBDA_MAX_CONCURRENCY=1`,
    /// and an AWS SDK that never probes instance metadata (`AWS_REGION`,
    /// `AWS_EC2_METADATA_DISABLED`).
    pub fn function_command(&self, binary: &Path, function: &str) -> Command {
        let printed = |key: &str| self.printed_env.get(key).cloned().unwrap_or_default();
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_FUNCTION_VERSION", printed("AWS_LAMBDA_FUNCTION_VERSION"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", printed("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
            .env("AWS_LAMBDA_RUNTIME_API", self.runtime_api(function))
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_MAX_CONCURRENCY", "1")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        command
    }

    /// Starts `binary` serving `function` ([`Emulator::function_command`])
    /// with the extra `env`; its stderr and stdout are collected
    /// ([`FunctionProcess::stderr_so_far`], [`FunctionProcess::stop`]) and it
    /// is killed when dropped.
    pub fn start_function(&self, binary: &Path, function: &str, env: &[(&str, &str)]) -> FunctionProcess {
        FunctionProcess::spawn(self.function_command(binary, function), env)
    }

    /// `cargo lambda invoke function --data-file data_file` against this
    /// emulator (the real CLI), bounded by [`REQUEST_TIMEOUT`].
    pub async fn invoke(&self, function: &str, data_file: &Path) -> Invocation {
        let mut command = cargo_lambda_command();
        command.args(["invoke", function, "--data-file"]).arg(data_file);
        self.run_invoke(command).await
    }

    /// `cargo lambda invoke function --data-ascii EVENT` with `event` as JSON.
    pub async fn invoke_json(&self, function: &str, event: &serde_json::Value) -> Invocation {
        let mut command = cargo_lambda_command();
        command.args(["invoke", function, "--data-ascii", &event.to_string()]);
        self.run_invoke(command).await
    }

    async fn run_invoke(&self, mut command: Command) -> Invocation {
        command
            .args(["--invoke-address", "127.0.0.1", "--invoke-port", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start cargo lambda invoke: {e}"));
        let (stdout, stderr) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        collect_lines(child.stdout.take().expect("piped stdout"), &stdout);
        collect_lines(child.stderr.take().expect("piped stderr"), &stderr);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for cargo lambda invoke") {
                break status;
            }
            if started.elapsed() > REQUEST_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "cargo lambda invoke did not finish within {REQUEST_TIMEOUT:?}; emulator log:\n{}",
                    self.output().join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The reader threads see EOF once the process is gone; wait for them
        // to have read everything (bounded).
        let read = Instant::now();
        let text = |lines: &Arc<Mutex<Vec<String>>>| lines.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
        while Arc::strong_count(&stdout) > 1 || Arc::strong_count(&stderr) > 1 {
            if read.elapsed() > Duration::from_secs(5) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Invocation { status, stdout: text(&stdout), stderr: text(&stderr) }
    }

    /// Sends `method path` to the Function URL emulation of `function`
    /// (`/lambda-url/function/path`, `path` starting with `/`, query
    /// included) with `headers` and `body`, over HTTP/1.1 on loopback,
    /// bounded by [`REQUEST_TIMEOUT`].
    pub async fn function_url(
        &self,
        function: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> UrlResponse {
        let target = format!("/lambda-url/{function}{path}");
        match http_request(self.port, method, &target, headers, body, REQUEST_TIMEOUT).await {
            Ok(response) => response,
            Err(problem) => panic!("{method} {target}: {problem}; emulator log:\n{}", self.output().join("\n")),
        }
    }

    /// Stops the emulator (by PID): SIGTERM, which it answers with a
    /// graceful shutdown, then SIGKILL if it is still running after 3 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).stderr(Stdio::null()).status();
        let started = Instant::now();
        while started.elapsed() < STOP_GRACE {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `KEY=VALUE` lines the emulator prints for the function (its log
/// lines look like ` INFO AWS_LAMBDA_RUNTIME_API=http://…`).
fn printed_env(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|line| {
            let word = line.split_whitespace().last()?;
            let (key, value) = word.split_once('=')?;
            key.starts_with("AWS_LAMBDA_").then(|| (key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// What `cargo lambda invoke` did.
#[derive(Debug)]
pub struct Invocation {
    /// How the CLI exited (success: the function answered without error).
    pub status: ExitStatus,
    /// What it printed: the function's answer.
    pub stdout: String,
    /// Its error report, if any.
    pub stderr: String,
}

impl Invocation {
    /// The answer parsed as JSON, panicking with the whole invocation if it
    /// is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {self:?}"))
    }
}

/// An HTTP response from the emulator.
#[derive(Debug, Clone)]
pub struct UrlResponse {
    /// The status code.
    pub status: u16,
    /// The headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (chunked transfer encoding undone).
    pub body: Vec<u8>,
}

impl UrlResponse {
    /// The first value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn try_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body parsed as JSON, panicking with the response if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("the body is not JSON ({e}): {} {:?} {}", self.status, self.headers, self.text())
        })
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port` (`connection: close`), read to
/// the end within `timeout`.
async fn http_request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<UrlResponse, String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        let mut head = format!("{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
        stream.write_all(body).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
        parse_response(&raw)
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no complete answer within {timeout:?}"))?
}

/// Parses a whole HTTP/1.1 response (read until the server closed).
fn parse_response(raw: &[u8]) -> Result<UrlResponse, String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of the response head")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(rest)? } else { rest.to_vec() };
    Ok(UrlResponse { status, headers, body })
}

/// Undoes chunked transfer encoding.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").ok_or("a chunk size line without its end")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err("a chunk shorter than its size".into());
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let plain =
            parse_response(b"HTTP/1.1 201 Created\r\nX-Correlation-Id: c-1\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((plain.status, plain.header("x-correlation-id"), plain.text().as_str()), (201, Some("c-1"), "{}"));
        let chunked = parse_response(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.text(), "abcde");
    }

    #[test]
    fn reads_the_printed_variables() {
        let lines: Vec<String> = [
            " INFO you MUST set these variables in the environment where you're running your function:",
            " INFO AWS_LAMBDA_FUNCTION_VERSION=1",
            " INFO AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:9000/.rt",
            " INFO starting Runtime server runtime_addr=127.0.0.1:9000",
        ]
        .map(String::from)
        .to_vec();
        let env = printed_env(&lines);
        assert_eq!(env.len(), 2, "{env:?}");
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "http://127.0.0.1:9000/.rt");
    }
}

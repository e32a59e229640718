//! Local runs: a halo binary started outside Lambda
//! ([`crate::platform::in_lambda`] is false) is a command-line tool that
//! invokes its handler on event files (`invoke`) and, for an axum router,
//! serves it on a loopback port (`serve`). The usage, the output and the
//! exit status are in the crate docs' "Local runs" section.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt;
use tower::ServiceExt;

use crate::FunctionInfo;
use crate::Invocation;
use crate::InvocationService;
use crate::context::{Ctx, InvocationStart, epoch_ms_now};

/// Default time budget of a local invocation.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Invoke the handler on each event, in order.
    Invoke {
        /// Where the events come from (at least one).
        sources: Vec<EventInput>,
        /// The invocation's time budget (its deadline is now + timeout).
        timeout: Duration,
        /// How many events are invoked at the same time (1: in order, one
        /// after the other).
        concurrency: usize,
    },
    /// Serve an axum router on `127.0.0.1:port` (routers only).
    Serve {
        /// The loopback port (default 3000).
        port: u16,
    },
}

/// The most invocations `invoke --concurrency` runs at once.
pub(crate) const MAX_LOCAL_CONCURRENCY: usize = 1024;

/// The port `serve` listens on without `--port`.
pub(crate) const DEFAULT_PORT: u16 = 3000;

/// Where a local invocation's event comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventInput {
    /// A JSON file.
    File(std::path::PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl std::fmt::Display for EventInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventInput::File(path) => write!(f, "{}", path.display()),
            EventInput::Stdin => f.write_str("stdin"),
        }
    }
}

fn usage() -> String {
    let name = FunctionInfo::shared().name.clone();
    format!(
        "usage: {name} invoke <event.json | -> [more events...] [--timeout <seconds>] [--concurrency <n>]\n       \
         {name} serve [--port <port>]   (axum routers)\n\n\
         Runs the handler on each event (a JSON file, or stdin for `-`) in order in this\n\
         process, like one warm container, with a synthetic Lambda context; prints one\n\
         response JSON line per event on stdout and the JSON logs on stderr.\n\
         With --concurrency, up to n events are invoked at the same time.\n\
         Exit status: 0 success, 1 handler error, 2 bad usage or event.\n\
         Inside Lambda (under a Runtime API), the binary runs as a Lambda runtime instead.\n"
    )
}

/// Parses the arguments after the program name. On `--help` or a usage
/// error it prints the usage and returns the exit code to end with.
pub(crate) fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, ExitCode> {
    let args: Vec<String> = args.into_iter().collect();
    match parse(&args) {
        Ok(Some(command)) => Ok(command),
        Ok(None) => {
            print!("{}", usage());
            Err(ExitCode::SUCCESS)
        }
        Err(problem) => {
            eprint!("error: {problem}\n\n{}", usage());
            Err(ExitCode::from(2))
        }
    }
}

/// Parses the arguments after the program name without printing:
/// `Ok(None)` for `--help`, `Err` with the problem for a usage error.
pub(crate) fn parse(args: &[String]) -> Result<Option<Command>, String> {
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        None => return Err("no command given".to_owned()),
        Some("-h" | "--help" | "help") => return Ok(None),
        Some("invoke") => {}
        Some("serve") => return parse_serve(args.as_slice()),
        Some(other) => return Err(format!("unknown command `{other}` (allowed: invoke, serve)")),
    }
    let mut sources = Vec::new();
    let mut timeout = DEFAULT_TIMEOUT;
    let mut concurrency = 1;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--timeout" => {
                let value = args.next().ok_or("--timeout needs a number of seconds")?;
                let seconds: f64 = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 900.0)
                    .ok_or_else(|| format!("--timeout takes seconds between 0 and 900, got `{value}`"))?;
                timeout = Duration::from_secs_f64(seconds);
            }
            "--concurrency" => {
                let value = args.next().ok_or("--concurrency needs a number of invocations")?;
                concurrency = value
                    .parse()
                    .ok()
                    .filter(|n: &usize| (1..=MAX_LOCAL_CONCURRENCY).contains(n))
                    .ok_or_else(|| format!("--concurrency takes 1 to {MAX_LOCAL_CONCURRENCY}, got `{value}`"))?;
            }
            "-" if sources.contains(&EventInput::Stdin) => {
                return Err("`-` (stdin) can be given once".to_owned());
            }
            "-" => sources.push(EventInput::Stdin),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option `{flag}` (allowed: --timeout, --concurrency)"));
            }
            path if !std::path::Path::new(path).is_file() => {
                return Err(format!("cannot read the event file `{path}`: no such file"));
            }
            path => sources.push(EventInput::File(path.into())),
        }
    }
    if sources.is_empty() {
        return Err("invoke needs an event file (or - for stdin)".to_owned());
    }
    Ok(Some(Command::Invoke { sources, timeout, concurrency }))
}

fn parse_serve(args: &[String]) -> Result<Option<Command>, String> {
    match args {
        [] => Ok(Some(Command::Serve { port: DEFAULT_PORT })),
        [flag] if flag == "-h" || flag == "--help" => Ok(None),
        [flag, port] if flag == "--port" => match port.parse() {
            Ok(port) => Ok(Some(Command::Serve { port })),
            Err(_) => Err(format!("--port takes a port number, got `{port}`")),
        },
        _ => Err("serve takes only --port <port>".to_owned()),
    }
}

/// Carries out `command` with halo's stack `service`.
pub(crate) async fn execute(service: InvocationService, command: Command, timeout_margin: Duration) -> ExitCode {
    let (sources, timeout, concurrency) = match command {
        Command::Invoke { sources, timeout, concurrency } => (sources, timeout, concurrency),
        Command::Serve { .. } => {
            eprintln!("error: `serve` runs axum routers (`#[halo::http]`); this handler takes `invoke <event.json>`");
            return ExitCode::from(2);
        }
    };
    let invoke = |text: String| {
        let ctx = Ctx::for_invocation(InvocationStart {
            request_id: uuid::Uuid::new_v4().to_string(),
            deadline_epoch_ms: epoch_ms_now().saturating_add(timeout.as_millis() as u64),
            invoked_function_arn: None,
            xray_trace_id: None,
            timeout_margin,
        });
        service.clone().oneshot(Invocation::new(text, ctx))
    };
    let mut status = ExitCode::SUCCESS;
    let mut answer = |result: Result<Box<serde_json::value::RawValue>, crate::Error>| match result {
        Ok(response) => println!("{}", response.get()),
        Err(err) => {
            println!("{}", serde_json::json!({ "errorType": err.code(), "errorMessage": err.message() }));
            status = ExitCode::FAILURE;
        }
    };
    if concurrency == 1 {
        for source in &sources {
            match checked_event(source) {
                Ok(text) => {
                    answer(invoke(text).await);
                    crate::trace::flush().await;
                }
                Err(exit) => return exit,
            }
        }
    } else {
        let mut events = Vec::with_capacity(sources.len());
        for source in &sources {
            match checked_event(source) {
                Ok(text) => events.push(text),
                Err(exit) => return exit,
            }
        }
        let mut answers = futures_util::stream::iter(events.into_iter().map(invoke)).buffered(concurrency);
        while let Some(result) = answers.next().await {
            answer(result);
        }
        crate::trace::flush().await;
    }
    // Metrics added outside the invocations (a background task's).
    crate::metrics::flush_container();
    status
}

/// The event of `source`, read and checked to be JSON; exit status 2 (with
/// the problem logged) if it is not.
pub(crate) fn checked_event(source: &EventInput) -> Result<String, ExitCode> {
    let text = read_event(source).map_err(|problem| {
        tracing::error!(event_source = %source, "cannot read the event: {problem}");
        ExitCode::from(2)
    })?;
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        tracing::error!(event_source = %source, "the event is not valid JSON: {err}");
        return Err(ExitCode::from(2));
    }
    Ok(text)
}

fn read_event(source: &EventInput) -> Result<String, String> {
    match source {
        EventInput::File(path) => {
            std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
        }
        EventInput::Stdin => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|err| format!("cannot read stdin: {err}"))?;
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Command>, String> {
        super::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_invoke_with_file_and_timeout() {
        assert_eq!(
            parse(&["invoke", "Cargo.toml", "--timeout", "1.5"]),
            Ok(Some(Command::Invoke {
                sources: vec![EventInput::File("Cargo.toml".into())],
                timeout: Duration::from_millis(1500),
                concurrency: 1
            }))
        );
        assert_eq!(
            parse(&["invoke", "-"]),
            Ok(Some(Command::Invoke { sources: vec![EventInput::Stdin], timeout: DEFAULT_TIMEOUT, concurrency: 1 }))
        );
    }

    #[test]
    fn parses_several_events_in_order() {
        assert_eq!(
            parse(&["invoke", "Cargo.toml", "-", "--timeout", "2", "Cargo.toml"]),
            Ok(Some(Command::Invoke {
                sources: vec![
                    EventInput::File("Cargo.toml".into()),
                    EventInput::Stdin,
                    EventInput::File("Cargo.toml".into())
                ],
                timeout: Duration::from_secs(2),
                concurrency: 1
            }))
        );
    }

    #[test]
    fn parses_a_concurrency() {
        let parsed = parse(&["invoke", "Cargo.toml", "Cargo.toml", "--concurrency", "8"]);
        let Ok(Some(Command::Invoke { concurrency, sources, .. })) = parsed else { panic!("{parsed:?}") };
        assert_eq!((concurrency, sources.len()), (8, 2));
    }

    #[test]
    fn rejects_bad_usage_with_a_reason() {
        assert!(parse(&[]).unwrap_err().contains("no command"));
        assert!(parse(&["launch"]).unwrap_err().contains("unknown command `launch`"));
        assert!(parse(&["invoke", "missing.json"]).unwrap_err().contains("`missing.json`: no such file"));
        assert!(parse(&["serve", "--port", "x"]).unwrap_err().contains("--port takes a port number"));
        assert!(parse(&["invoke"]).unwrap_err().contains("needs an event file"));
        assert!(parse(&["invoke", "-", "Cargo.toml", "-"]).unwrap_err().contains("`-` (stdin) can be given once"));
        assert!(parse(&["invoke", "Cargo.toml", "--timeout", "0"]).unwrap_err().contains("between 0 and 900"));
        assert!(parse(&["invoke", "Cargo.toml", "--verbose"]).unwrap_err().contains("unknown option `--verbose`"));
        for bad in ["0", "x", "1025"] {
            let problem = parse(&["invoke", "Cargo.toml", "--concurrency", bad]).unwrap_err();
            assert!(problem.contains("--concurrency takes 1 to 1024"), "{problem}");
        }
        assert!(parse(&["invoke", "Cargo.toml", "--concurrency"]).unwrap_err().contains("needs a number"));
        assert_eq!(parse(&["--help"]), Ok(None));
    }

    #[test]
    fn parses_serve_with_or_without_a_port() {
        assert_eq!(parse(&["serve"]), Ok(Some(Command::Serve { port: DEFAULT_PORT })));
        assert_eq!(parse(&["serve", "--port", "8080"]), Ok(Some(Command::Serve { port: 8080 })));
    }
}

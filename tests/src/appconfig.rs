//! AppConfig on loopback: its control plane on moto ([`MotoAppConfig`]:
//! applications, configuration profiles, hosted configuration versions),
//! and [`AppConfigStub`], the data plane moto lacks, served over moto's
//! control plane: the AppConfig data API (`StartConfigurationSession`,
//! `GetLatestConfiguration` with its poll tokens and interval) and the
//! AppConfig Lambda extension's local endpoint. Each answer comes from the
//! latest hosted version in moto, so a version published there is what the
//! next poll sees.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;

/// One HTTP exchange with moto's AppConfig control plane: `(status,
/// content type, body)`.
async fn call(endpoint: &str, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String, Vec<u8>) {
    let authority = endpoint.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&authority).await.expect("connect to moto");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake with moto");
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", authority)
        .header("content-type", content_type)
        // moto reads the service from the credential scope.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/appconfig/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(Full::new(Bytes::from(body)))
        .expect("a request");
    let response = sender.send_request(request).await.expect("moto answers");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.into_body().collect().await.expect("moto's body").to_bytes().to_vec();
    (status, content_type, body)
}

/// AppConfig's control plane on a moto server.
#[derive(Debug, Clone)]
pub struct MotoAppConfig {
    endpoint: String,
}

impl MotoAppConfig {
    /// The control plane of the moto server at `endpoint` (`http://127.0.0.1:PORT`).
    pub fn new(endpoint: impl Into<String>) -> MotoAppConfig {
        MotoAppConfig { endpoint: endpoint.into() }
    }

    async fn create(&self, path: &str, body: serde_json::Value) -> String {
        let (status, _, answer) =
            call(&self.endpoint, "POST", path, "application/json", body.to_string().into_bytes()).await;
        assert!(status < 300, "moto refused POST {path}: {status} {}", String::from_utf8_lossy(&answer));
        let answer: serde_json::Value = serde_json::from_slice(&answer).expect("moto answers JSON");
        answer["Id"].as_str().expect("an Id").to_owned()
    }

    /// Creates an application; its id.
    pub async fn create_application(&self, name: &str) -> String {
        self.create("/applications", serde_json::json!({ "Name": name })).await
    }

    /// Creates a hosted configuration profile in `application`; its id.
    pub async fn create_profile(&self, application: &str, name: &str) -> String {
        let body = serde_json::json!({ "Name": name, "LocationUri": "hosted" });
        self.create(&format!("/applications/{application}/configurationprofiles"), body).await
    }

    /// Publishes a new hosted version of the profile.
    pub async fn publish(&self, application: &str, profile: &str, content: &[u8], content_type: &str) {
        let path = format!("/applications/{application}/configurationprofiles/{profile}/hostedconfigurationversions");
        let (status, _, answer) = call(&self.endpoint, "POST", &path, content_type, content.to_vec()).await;
        assert!(status < 300, "moto refused a hosted version: {status} {}", String::from_utf8_lossy(&answer));
    }

    /// The hosted version `number` of the profile, if it exists: `(content
    /// type, content)`.
    pub async fn version(&self, application: &str, profile: &str, number: u64) -> Option<(String, Vec<u8>)> {
        let path =
            format!("/applications/{application}/configurationprofiles/{profile}/hostedconfigurationversions/{number}");
        let (status, content_type, body) = call(&self.endpoint, "GET", &path, "application/json", Vec::new()).await;
        (status == 200).then_some((content_type, body))
    }

    /// The latest hosted version at or after `known` (0: none yet):
    /// `(number, content type, content)`.
    pub async fn latest(&self, application: &str, profile: &str, known: u64) -> Option<(u64, String, Vec<u8>)> {
        let mut found = None;
        let mut number = known.max(1);
        while let Some((content_type, content)) = self.version(application, profile, number).await {
            found = Some((number, content_type, content));
            number += 1;
        }
        found
    }
}

/// A session of the data API: what its next poll answers from.
#[derive(Debug, Clone)]
struct Session {
    application: String,
    profile: String,
    /// The version the session last delivered (0: none).
    delivered: u64,
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Session>,
    requests: BTreeMap<&'static str, usize>,
}

/// The AppConfig data plane over moto's control plane, on a loopback port:
/// the data API (point the SDK's endpoint at [`endpoint`](AppConfigStub::endpoint))
/// and the Lambda extension's endpoint (on [`port`](AppConfigStub::port)).
#[derive(Clone)]
pub struct AppConfigStub {
    control: MotoAppConfig,
    port: u16,
    poll_interval_s: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    next_token: Arc<AtomicU64>,
    state: Arc<Mutex<State>>,
}

impl AppConfigStub {
    /// Starts the stub over `control`; each poll asks for `poll_interval_s`
    /// seconds until the next.
    pub async fn start(control: MotoAppConfig, poll_interval_s: u64) -> AppConfigStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let port = listener.local_addr().expect("a local address").port();
        let stub = AppConfigStub {
            control,
            port,
            poll_interval_s: Arc::new(AtomicU64::new(poll_interval_s)),
            down: Arc::default(),
            next_token: Arc::default(),
            state: Arc::default(),
        };
        let serving = stub.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let stub = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let stub = stub.clone();
                        async move { Ok::<_, Infallible>(stub.handle(request).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        stub
    }

    /// `http://127.0.0.1:PORT`, the data API's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port (the extension's endpoint is on it too).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Answers every request with a 500 (`true`) or normally again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Forgets every session token, as the service does after 24 hours.
    pub fn expire_tokens(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).sessions.clear();
    }

    /// Requests served by operation: `StartConfigurationSession`,
    /// `GetLatestConfiguration`, `Extension`.
    pub fn requests(&self) -> BTreeMap<&'static str, usize> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).requests.clone()
    }

    /// Requests of one operation.
    pub fn count(&self, operation: &str) -> usize {
        self.requests().get(operation).copied().unwrap_or(0)
    }

    /// Forgets the request counts.
    pub fn reset_counts(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).requests.clear();
    }

    fn record(&self, operation: &'static str) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()).requests.entry(operation).or_default() += 1;
    }

    fn token(&self) -> String {
        format!("token-{}", self.next_token.fetch_add(1, Ordering::SeqCst))
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = request.method().as_str().to_owned();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let operation = match (method.as_str(), segments.as_slice()) {
            ("POST", ["configurationsessions"]) => "StartConfigurationSession",
            ("GET", ["configuration"]) => "GetLatestConfiguration",
            ("GET", ["applications", _, "environments", _, "configurations", _]) => "Extension",
            _ => return error(404, "ResourceNotFoundException", "no such route"),
        };
        self.record(operation);
        if self.down.load(Ordering::SeqCst) {
            return error(500, "InternalServerException", "the stub is down");
        }
        match operation {
            "StartConfigurationSession" => self.start_session(&body),
            "GetLatestConfiguration" => self.latest(&query).await,
            _ => self.extension(segments[1], segments[5]).await,
        }
    }

    fn start_session(&self, body: &[u8]) -> Response<Full<Bytes>> {
        let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let (Some(application), Some(profile)) =
            (request["ApplicationIdentifier"].as_str(), request["ConfigurationProfileIdentifier"].as_str())
        else {
            return error(400, "BadRequestException", "identifiers missing");
        };
        let token = self.token();
        let session = Session { application: application.to_owned(), profile: profile.to_owned(), delivered: 0 };
        self.state.lock().unwrap_or_else(|p| p.into_inner()).sessions.insert(token.clone(), session);
        let answer = serde_json::json!({ "InitialConfigurationToken": token });
        Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(answer.to_string())))
            .expect("a response")
    }

    async fn latest(&self, query: &str) -> Response<Full<Bytes>> {
        let token = query.split('&').find_map(|pair| pair.strip_prefix("configuration_token=")).unwrap_or_default();
        let token = token.replace("%2D", "-");
        let Some(session) = self.state.lock().unwrap_or_else(|p| p.into_inner()).sessions.remove(&token) else {
            return error(400, "BadRequestException", "the token is not valid");
        };
        let latest = self.control.latest(&session.application, &session.profile, session.delivered).await;
        let next = self.token();
        let (delivered, content_type, content) = match latest {
            Some((number, content_type, content)) if number > session.delivered => (number, content_type, content),
            _ => (session.delivered, String::new(), Vec::new()),
        };
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sessions
            .insert(next.clone(), Session { delivered, ..session });
        let mut response = Response::builder()
            .status(200)
            .header("next-poll-configuration-token", next)
            .header("next-poll-interval-in-seconds", self.poll_interval_s.load(Ordering::SeqCst).to_string());
        if !content.is_empty() {
            response = response.header("content-type", content_type).header("version-label", delivered.to_string());
        }
        response.body(Full::new(Bytes::from(content))).expect("a response")
    }

    async fn extension(&self, application: &str, profile: &str) -> Response<Full<Bytes>> {
        match self.control.latest(application, profile, 0).await {
            Some((number, content_type, content)) => Response::builder()
                .status(200)
                .header("content-type", content_type)
                .header("configuration-version", number.to_string())
                .body(Full::new(Bytes::from(content)))
                .expect("a response"),
            None => error(404, "ResourceNotFoundException", "no such configuration"),
        }
    }
}

/// An error answer in the data API's shape.
fn error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", code)
        .body(Full::new(Bytes::from(serde_json::json!({ "Message": message }).to_string())))
        .expect("a response")
}

//! An HTTPS server on loopback with a certificate from a certificate
//! authority made for the test: the authority's PEM file goes in
//! `SSL_CERT_FILE`, so a client trusts the server exactly when it reads
//! the system's roots from there.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The server; it answers every request `200` with `body` (JSON).
pub struct TlsStub {
    /// `https://localhost:<port>`.
    pub url: String,
    /// The authority's certificate (PEM), to trust through `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    requests: Arc<AtomicUsize>,
}

impl TlsStub {
    /// Starts the server on its own thread, answering `body` with
    /// `content_type`.
    pub fn start(body: &'static str, content_type: &'static str) -> TlsStub {
        let ca_key = KeyPair::generate().expect("a key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("the CA certificate");
        let server_key = KeyPair::generate().expect("a key");
        let server_params = CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let server = server_params.signed_by(&server_key, &issuer).expect("the server certificate");

        let ca_file =
            std::env::temp_dir().join(format!("halo-test-ca-{}-{}.pem", std::process::id(), crate::free_port()));
        std::fs::write(&ca_file, ca.pem()).expect("write the CA file");

        let certs = vec![server.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).expect("the key as DER");
        // ring, as halo's client uses (deprecated in rustls 0.23.48 for its
        // lack of post-quantum key exchange, which this test does not need).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("a server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("https://localhost:{}", listener.local_addr().expect("an address").port());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    let (acceptor, counted) = (acceptor.clone(), Arc::clone(&counted));
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(stream).await else { return };
                        let mut buffer = vec![0u8; 64 * 1024];
                        let mut read = 0;
                        while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                            match tls.read(&mut buffer[read..]).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => read += n,
                            }
                        }
                        counted.fetch_add(1, Ordering::SeqCst);
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = tls.write_all(answer.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    });
                }
            });
        });
        TlsStub { url, ca_file, requests }
    }

    /// How many requests arrived over a completed TLS handshake.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TlsStub {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

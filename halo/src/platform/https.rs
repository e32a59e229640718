//! The AWS SDK's HTTPS client, set up on its first request: loading the
//! SDK's configuration (at init) costs no TLS set-up, and the system's
//! roots are read once per process for it and halo's HTTP client.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// One rustls (ring) HTTPS client with the system's roots, built when the
/// first request is sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct LazyHttps(Arc<OnceLock<SharedHttpClient>>);

impl LazyHttps {
    fn client(&self) -> &SharedHttpClient {
        self.0.get_or_init(|| {
            let roots =
                TrustStore::empty().with_native_roots(false).with_pem_certificate(super::tls::native_roots_pem());
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .tls_context(TlsContext::builder().with_trust_store(roots).build().unwrap_or_default())
                .build_https()
        })
    }
}

impl HttpClient for LazyHttps {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(LazyConnector {
            https: self.clone(),
            settings: settings.clone(),
            components: components.clone(),
            connector: OnceLock::new(),
        })
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// A connector that asks the client for the real one on its first call.
#[derive(Debug)]
struct LazyConnector {
    https: LazyHttps,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
    connector: OnceLock<SharedHttpConnector>,
}

impl HttpConnector for LazyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connector =
            self.connector.get_or_init(|| self.https.client().http_connector(&self.settings, &self.components));
        connector.call(request)
    }
}

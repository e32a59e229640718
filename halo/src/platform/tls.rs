//! The system's root certificates, read once per process for every TLS
//! client halo builds (the outgoing HTTP client and the AWS SDK's).
//!
//! Each client would otherwise read them itself: on a Debian-like image
//! that is a directory of some 300 files, several milliseconds of cold
//! start each time.

use std::sync::LazyLock;

use rustls::pki_types::CertificateDer;

/// The system's trusted roots (`SSL_CERT_FILE` / `SSL_CERT_DIR`, else the
/// platform's usual places), read on first use.
pub(crate) fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: LazyLock<Vec<CertificateDer<'static>>> = LazyLock::new(|| {
        let loaded = rustls_native_certs::load_native_certs();
        if !loaded.errors.is_empty() {
            tracing::warn!(errors = loaded.errors.len(), "some of the system's root certificates could not be read");
        }
        if loaded.certs.is_empty() {
            tracing::warn!("no root certificate was found on the system: TLS connections will fail");
        }
        loaded.certs
    });
    &ROOTS
}

/// The roots as one PEM text (what the AWS SDK's trust store takes).
#[cfg(feature = "aws")]
pub(crate) fn native_roots_pem() -> Vec<u8> {
    let mut pem = Vec::new();
    for cert in native_roots() {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        let text = crate::base64::encode(cert);
        for line in text.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

//! A secret never shows: for generated secret values, `Secret<T>` and the
//! parameters that hold secrets (`SecureString`, binary secrets) keep the
//! value out of `Debug` and `Display` output, serialization, halo's log
//! lines, and the errors of a value that does not fit its type.

use halo::BoxFuture;
use halo::params::provider::{Parameter, ParameterKind, Source};
use halo::params::{EnvSource, Params, ParamsError, ParamsErrorKind, Secret};
use proptest::prelude::*;
use serde::Deserialize;

/// A source holding one parameter, as a secrets store returns it.
struct Holding(Parameter);

impl Source for Holding {
    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(async move {
            names
                .iter()
                .map(|name| match name == self.0.name() {
                    true => Ok(self.0.clone()),
                    false => Err(ParamsError::new(ParamsErrorKind::NotFound, "no such parameter").at(name)),
                })
                .collect()
        })
    }

    fn name(&self) -> &'static str {
        "holding"
    }
}

/// Standard base64, as Secrets Manager sends a binary secret.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]) } else { '=' });
        }
    }
    out
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Credentials {
    username: String,
    password: Secret<String>,
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().expect("a runtime").block_on(future)
}

/// Secret values: long enough and marked so a match is never an accident,
/// with the characters that JSON or a log line would escape.
fn secret_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 _\"'\\\\{}:,/=+\\-]{10,40}".prop_map(|tail| format!("S3cr3t-{tail}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_secret_never_shows_in_output_logs_or_errors(value in secret_value(), number in any::<u64>()) {
        let (_guard, lines) = halo_test_support::logs::capture();
        let secret = Secret::new(value.clone());
        let credentials = Credentials { username: "shop".into(), password: secret.clone() };
        let json_escaped = serde_json::to_string(&value).unwrap();
        let shown = [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{credentials:?}"),
            format!("{credentials:#?}"),
            serde_json::to_string(&secret).unwrap(),
        ];
        for text in &shown {
            prop_assert!(!text.contains(&value), "{}", text);
        }
        tracing::info!(secret = ?secret, credentials = ?credentials, shown = %secret, "settings");
        prop_assert!(!lines.text().contains(&value) && !lines.text().contains(&json_escaped[1..json_escaped.len() - 1]));

        // A secure parameter's Debug, and a value that does not fit its type.
        let parameter = Parameter::new("/shop/db/password", value.clone(), ParameterKind::SecureString);
        let shown = format!("{parameter:?}");
        prop_assert!(!shown.contains(&value));
        let params = Params::new(Holding(parameter));
        let err = block_on(params.get::<Secret<u32>>("/shop/db/password")).unwrap_err();
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&value), "{}", shown);
        let err = block_on(params.get::<Vec<u64>>("/shop/db/password")).unwrap_err();
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&value), "{}", shown);

        // A JSON secret with a mistyped field.
        let document = serde_json::json!({ "username": value, "password": number }).to_string();
        let params = Params::new(Holding(Parameter::new("prod/db", document, ParameterKind::SecureString)));
        let err = block_on(params.get::<Credentials>("prod/db")).unwrap_err();
        prop_assert_eq!(err.path(), Some("prod/db"));
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&value), "{}", shown);

        // A binary secret: never its bytes, nor their base64.
        let encoded = base64(value.as_bytes());
        let binary = Parameter::new("prod/key", encoded.clone(), ParameterKind::Binary);
        let shown = format!("{binary:?}");
        prop_assert!(!shown.contains(&encoded));
        let params = Params::new(Holding(binary));
        let bytes: Secret<Vec<u8>> = block_on(params.get("prod/key")).unwrap();
        prop_assert_eq!(bytes.expose(), &value.as_bytes().to_vec());
        let shown = format!("{bytes:?}");
        prop_assert!(!shown.contains(&value));
        let err = block_on(params.get::<Secret<f64>>("prod/key")).unwrap_err();
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&value) && !shown.contains(&encoded), "{}", shown);

        // A secret read from the environment source into a `Secret` of the
        // wrong type.
        let params = Params::new(EnvSource::from_vars([("HALO_PARAM_API_KEY", value.clone())]));
        let err = block_on(params.get::<Secret<bool>>("/api/key")).unwrap_err();
        let shown = format!("{err} {err:?}");
        prop_assert!(!shown.contains(&value), "{}", shown);
        prop_assert!(!lines.text().contains(&value));
    }
}

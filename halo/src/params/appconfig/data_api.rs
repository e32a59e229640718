//! Reading profiles through the AppConfig data API: one configuration
//! session per profile, its next poll token kept, its poll interval
//! honoured (a read before the interval ends serves the last content).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_appconfigdata::Client;

use super::content;
use crate::params::aws_error::sdk_error;
use crate::params::error::{ParamsError, ParamsErrorKind};
use crate::params::provider::Parameter;

/// One profile's session.
#[derive(Debug, Default)]
struct Session {
    /// The token of the next `GetLatestConfiguration`.
    token: Option<String>,
    /// No call before this; the last content is served until then.
    next_poll: Option<Instant>,
    last: Option<Parameter>,
}

/// The sessions of a source's profiles.
#[derive(Debug)]
pub(super) struct DataApi {
    client: Client,
    /// `RequiredMinimumPollIntervalInSeconds`, when set.
    min_poll_interval: Option<Duration>,
    sessions: tokio::sync::Mutex<HashMap<String, Session>>,
}

impl DataApi {
    pub(super) fn new(client: Client) -> DataApi {
        DataApi { client, min_poll_interval: None, sessions: tokio::sync::Mutex::default() }
    }

    pub(super) fn set_min_poll_interval(&mut self, interval: Duration) {
        self.min_poll_interval = Some(interval);
    }

    /// The profile's latest content: the last one while the poll interval
    /// runs or when nothing changed.
    pub(super) async fn read(
        &self,
        application: &str,
        environment: &str,
        profile: &str,
    ) -> Result<Parameter, ParamsError> {
        let mut sessions = self.sessions.lock().await;
        let session = sessions.entry(profile.to_owned()).or_default();
        if let (Some(last), Some(next_poll)) = (&session.last, session.next_poll)
            && Instant::now() < next_poll
        {
            return Ok(last.clone());
        }
        // A token past its 24 hours is refused: start one session again.
        let mut restarted = session.token.is_none();
        loop {
            if session.token.is_none() {
                session.token = Some(self.start(application, environment, profile).await?);
            }
            let token = session.token.take().unwrap_or_default();
            let answer = self.client.get_latest_configuration().configuration_token(token).send().await;
            let output = match answer {
                Ok(output) => output,
                Err(err) if !restarted && err.as_service_error().is_some_and(|e| e.is_bad_request_exception()) => {
                    restarted = true;
                    continue;
                }
                Err(err) => return Err(sdk_error(err, "AppConfig", "GetLatestConfiguration", profile, appconfig_kind)),
            };
            session.token = output.next_poll_configuration_token;
            session.next_poll = Some(
                Instant::now() + Duration::from_secs(u64::try_from(output.next_poll_interval_in_seconds).unwrap_or(0)),
            );
            let bytes = output.configuration.map(|b| b.into_inner()).unwrap_or_default();
            if bytes.is_empty() {
                // Unchanged since the last call (or nothing deployed yet).
                return session.last.clone().ok_or_else(|| {
                    ParamsError::new(ParamsErrorKind::NotFound, "no configuration deployed to this environment")
                        .at(profile)
                });
            }
            let parameter = content::parameter(profile, &bytes, output.content_type.as_deref())?;
            session.last = Some(parameter.clone());
            return Ok(parameter);
        }
    }

    async fn start(&self, application: &str, environment: &str, profile: &str) -> Result<String, ParamsError> {
        let interval = self.min_poll_interval.map(|d| i32::try_from(d.as_secs().clamp(15, 86_400)).unwrap_or(15));
        let output = self
            .client
            .start_configuration_session()
            .application_identifier(application)
            .environment_identifier(environment)
            .configuration_profile_identifier(profile)
            .set_required_minimum_poll_interval_in_seconds(interval)
            .send()
            .await
            .map_err(|e| sdk_error(e, "AppConfig", "StartConfigurationSession", profile, appconfig_kind))?;
        output.initial_configuration_token.ok_or_else(|| {
            ParamsError::new(ParamsErrorKind::Unavailable, "AppConfig started a session without a token").at(profile)
        })
    }
}

/// AppConfig's own error codes.
fn appconfig_kind(code: &str) -> Option<ParamsErrorKind> {
    match code {
        "ResourceNotFoundException" => Some(ParamsErrorKind::NotFound),
        "BadRequestException" => Some(ParamsErrorKind::Config),
        _ => None,
    }
}

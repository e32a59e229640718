//! The switch per route: which routes the new service serves, which it
//! shadows, and which stay with the legacy system.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where one route's requests go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RouteMode {
    /// Forwarded to the legacy system (every route not named).
    #[default]
    Legacy,
    /// Served by the new service's handler.
    New,
    /// Forwarded to the legacy system, whose answer the caller gets; the
    /// new handler runs on a copy of the request and the answers are
    /// compared.
    Shadow,
}

/// The mode of each route the new service has, by route: `"GET
/// /orders/{id}"` (one method) or `"/orders/{id}"` (every method), the
/// path written as the new router's route template. A route not named
/// goes to the legacy system.
///
/// As configuration, one parameter `routes` holding a JSON object, under
/// the path the façade's [`LiveConfig`](crate::params::LiveConfig) loads:
///
/// ```
/// use halo::strangler::{RouteMode, Routing};
///
/// let routing: Routing = serde_json::from_str(r#"{"routes": {"GET /orders/{id}": "new", "/orders": "shadow"}}"#)?;
/// assert_eq!(routing, Routing::new().route("GET /orders/{id}", RouteMode::New).route("/orders", RouteMode::Shadow));
/// assert_eq!(routing.mode("GET", "/orders/{id}"), RouteMode::New);
/// assert_eq!(routing.mode("PUT", "/orders/{id}"), RouteMode::Legacy);
/// assert_eq!(routing.mode("POST", "/orders"), RouteMode::Shadow);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    routes: BTreeMap<String, RouteMode>,
}

impl Routing {
    /// Every route to the legacy system.
    pub fn new() -> Routing {
        Routing::default()
    }

    /// Sends `route` (`"GET /orders/{id}"` or `"/orders/{id}"`) to `mode`.
    #[must_use]
    pub fn route(mut self, route: impl Into<String>, mode: RouteMode) -> Routing {
        self.routes.insert(route.into(), mode);
        self
    }

    /// The mode of a request with `method` whose route template is
    /// `template`: its method's entry, else its path's, else legacy.
    pub fn mode(&self, method: &str, template: &str) -> RouteMode {
        self.routes
            .get(&format!("{method} {template}"))
            .or_else(|| self.routes.get(template))
            .copied()
            .unwrap_or(RouteMode::Legacy)
    }

    /// The entries that can match no request: a key is a path starting
    /// with `/`, optionally after a method and a space.
    pub(crate) fn malformed(&self) -> Vec<&str> {
        self.routes
            .keys()
            .filter(|key| {
                let path = key.split_once(' ').map_or(key.as_str(), |(method, path)| {
                    if method.bytes().all(|b| b.is_ascii_uppercase()) { path } else { "" }
                });
                !path.starts_with('/')
            })
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_entry_wins_over_the_path_entry() {
        let routing = Routing::new().route("/a", RouteMode::Shadow).route("DELETE /a", RouteMode::Legacy);
        assert_eq!(routing.mode("GET", "/a"), RouteMode::Shadow);
        assert_eq!(routing.mode("DELETE", "/a"), RouteMode::Legacy);
        assert_eq!(routing.mode("GET", "/b"), RouteMode::Legacy);
    }

    #[test]
    fn keys_that_match_nothing_are_named() {
        let routing = Routing::new()
            .route("GET /a", RouteMode::New)
            .route("/b", RouteMode::New)
            .route("GET a", RouteMode::New)
            .route("get /a", RouteMode::New);
        assert_eq!(routing.malformed(), ["GET a", "get /a"]);
    }

    #[test]
    fn an_unknown_mode_is_refused() {
        assert!(serde_json::from_str::<Routing>(r#"{"routes": {"/a": "newest"}}"#).is_err());
        assert!(serde_json::from_str::<Routing>(r#"{"route": {}}"#).is_err());
    }
}

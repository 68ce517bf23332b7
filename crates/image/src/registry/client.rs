//! A blocking client for one repository of one registry: finds whether it speaks HTTPS or
//! (when allowed) plain HTTP, answers its authentication challenges, and turns its error
//! answers into errors that name what was asked for.

use std::io::Read;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use ureq::http::{self, Response};
use ureq::{Agent, Body};

use super::auth::{Challenge, Credential, TokenResponse, parse_challenge};
use super::error::{Error, Result};

/// What a client may do in its repository: the scope of the tokens it asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "push",
        }
    }
}

/// How to reach registries: which may be plain HTTP, and where logins are kept.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// `HOST[:PORT]` of registries that may be plain HTTP, beyond the loopback ones.
    pub insecure: Vec<String>,
}

impl RegistryOptions {
    /// Whether `registry` may be reached over plain HTTP: loopback ones are, as with Docker.
    pub fn allows_http(&self, registry: &str) -> bool {
        let host = host_of(registry);
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        loopback
            || self
                .insecure
                .iter()
                .any(|i| i.trim() == registry || i.trim() == host)
    }
}

/// `host` of `host:port` (or of `[v6]:port`).
fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_once(']').map_or(registry, |(h, _)| &h[1..]);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// Where the API of a registry named in a reference lives: Docker Hub's is elsewhere.
pub fn api_host(registry: &str) -> &str {
    if registry == crate::reference::DEFAULT_REGISTRY {
        "registry-1.docker.io"
    } else {
        registry
    }
}

pub struct Client {
    agent: Agent,
    /// The registry as references name it, for messages and logins.
    registry: String,
    /// `https://host[:port]` or `http://host[:port]`.
    base: String,
    repository: String,
    access: Access,
    credential: Option<Credential>,
    /// The Authorization header that the registry last accepted.
    authorization: Mutex<Option<String>>,
}

const MAX_DOCUMENT: u64 = 8 << 20;

impl Client {
    /// Connects to `registry` for `repository` (none: only to check a login), pinging `/v2/` to
    /// learn its scheme and its authentication challenge.
    pub fn connect(
        registry: &str,
        repository: Option<&str>,
        access: Access,
        credential: Option<Credential>,
        options: &RegistryOptions,
    ) -> Result<Client> {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .user_agent(concat!("kist/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let host = api_host(registry);
        let mut client = Client {
            agent,
            registry: registry.to_string(),
            base: format!("https://{host}"),
            repository: repository.unwrap_or_default().to_string(),
            access,
            credential,
            authorization: Mutex::new(None),
        };
        let ping = match client.ping() {
            Ok(response) => response,
            Err(Error::NotHttps { .. }) if options.allows_http(registry) => {
                client.base = format!("http://{host}");
                client.ping()?
            }
            Err(e) => return Err(e),
        };
        if ping.status() == http::StatusCode::UNAUTHORIZED {
            client.authenticate(&ping, repository.is_some())?;
        }
        Ok(client)
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    fn ping(&self) -> Result<Response<Body>> {
        let url = format!("{}/v2/", self.base);
        let response = self.agent.get(&url).call().map_err(|e| self.transport(e))?;
        match response.status().as_u16() {
            200..=299 | 401 => Ok(response),
            status => Err(Error::Status {
                method: "GET",
                url,
                status,
                message: "not a registry (no API v2)".into(),
            }),
        }
    }

    /// A transport failure: the registry is down, or (when an HTTPS exchange broke after
    /// connecting) does not speak TLS.
    fn transport(&self, e: ureq::Error) -> Error {
        use std::io::ErrorKind as K;
        let down = matches!(
            &e,
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::Timeout(_)
        ) || matches!(&e, ureq::Error::Io(io) if matches!(
            io.kind(),
            K::ConnectionRefused
                | K::TimedOut
                | K::HostUnreachable
                | K::NetworkUnreachable
                | K::AddrNotAvailable
        ) || io.to_string().contains("lookup address"));
        if !down && self.base.starts_with("https:") {
            Error::NotHttps {
                address: self.registry.clone(),
                why: e.to_string(),
            }
        } else {
            Error::Unreachable {
                address: format!("{} ({})", self.registry, self.base),
                why: e.to_string(),
            }
        }
    }

    /// Answers the challenge of a 401: basic credentials, or a token from the realm.
    /// `scoped`: ask for a token for the repository (not for a bare login check).
    fn authenticate(&self, response: &Response<Body>, scoped: bool) -> Result<()> {
        let challenge = response
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(parse_challenge)
            // A token, when offered, carries scopes; prefer it.
            .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
        let header = match challenge {
            None => return Err(self.auth_required()),
            Some(Challenge::Basic) => match &self.credential {
                Some(c) => c.basic_header(),
                None => return Err(self.auth_required()),
            },
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let scope = if scoped {
                    Some(format!(
                        "repository:{}:{}",
                        self.repository,
                        self.access.actions()
                    ))
                } else {
                    scope
                };
                format!("Bearer {}", self.token(&realm, service, scope)?)
            }
        };
        *self.lock_authorization() = Some(header);
        Ok(())
    }

    fn token(&self, realm: &str, service: Option<String>, scope: Option<String>) -> Result<String> {
        let mut request = self.agent.get(realm);
        if let Some(s) = &service {
            request = request.query("service", s);
        }
        if let Some(s) = &scope {
            request = request.query("scope", s);
        }
        if let Some(c) = &self.credential {
            request = request.header(http::header::AUTHORIZATION, c.basic_header());
        }
        let mut response = request.call().map_err(|e| Error::Unreachable {
            address: format!("{} (token server {realm})", self.registry),
            why: e.to_string(),
        })?;
        match response.status().as_u16() {
            200..=299 => {}
            401 | 403 if self.credential.is_some() => {
                return Err(Error::WrongCredentials {
                    registry: self.registry.clone(),
                });
            }
            401 | 403 => return Err(self.auth_required()),
            status => {
                return Err(Error::Status {
                    method: "GET",
                    url: realm.to_string(),
                    status,
                    message: error_message(&mut response),
                });
            }
        }
        let body = read_document(&mut response, realm)?;
        serde_json::from_slice::<TokenResponse>(&body)
            .ok()
            .and_then(TokenResponse::into_token)
            .ok_or_else(|| Error::BadResponse {
                url: realm.to_string(),
                what: "the token server's answer has no token".into(),
            })
    }

    fn auth_required(&self) -> Error {
        if self.credential.is_some() {
            Error::WrongCredentials {
                registry: self.registry.clone(),
            }
        } else if self.repository.is_empty() {
            Error::AuthenticationRequired {
                registry: self.registry.clone(),
            }
        } else {
            self.access_denied()
        }
    }

    pub fn access_denied(&self) -> Error {
        Error::AccessDenied {
            action: self.access.name(),
            repository: format!("{}/{}", self.registry, self.repository),
            registry: self.registry.clone(),
        }
    }

    fn lock_authorization(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // A panicking thread cannot leave a half-written Option behind.
        self.authorization
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `/v2/<repository>/<path>` on this registry.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{}", self.base, self.repository, path)
    }

    /// A location the registry returned, made absolute.
    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}/{}", self.base, location.trim_start_matches('/'))
        }
    }

    /// Sends the request `make` builds, with the authorization the registry wants: a 401 is
    /// answered once (a token may have expired or need another scope) and the request re-made.
    pub fn send<B: ureq::AsSendBody>(
        &self,
        make: impl Fn() -> Result<http::request::Builder>,
        body: impl Fn() -> Result<B>,
    ) -> Result<Response<Body>> {
        let mut retried = false;
        loop {
            let mut builder = make()?;
            if let Some(a) = self.lock_authorization().clone() {
                builder = builder.header(http::header::AUTHORIZATION, a);
            }
            let request = builder.body(body()?).map_err(|e| Error::BadResponse {
                url: self.base.clone(),
                what: format!("building a request: {e}"),
            })?;
            let response = self.agent.run(request).map_err(|e| self.transport(e))?;
            if response.status() != http::StatusCode::UNAUTHORIZED || retried {
                if response.status() == http::StatusCode::UNAUTHORIZED {
                    return Err(self.auth_required());
                }
                return Ok(response);
            }
            self.authenticate(&response, true)?;
            retried = true;
        }
    }

    /// `GET /v2/` with the authorization answered: whether the registry accepts the login.
    pub fn check_authorized(&self) -> Result<()> {
        let url = format!("{}/v2/", self.base);
        let mut response = self.fetch(http::Method::GET, &url, "")?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            _ => Err(unexpected("GET", &url, &mut response)),
        }
    }

    /// A GET or HEAD without a body.
    pub fn fetch(&self, method: http::Method, url: &str, accept: &str) -> Result<Response<Body>> {
        self.send(
            || {
                let mut b = http::Request::builder().method(method.clone()).uri(url);
                if !accept.is_empty() {
                    b = b.header(http::header::ACCEPT, accept);
                }
                Ok(b)
            },
            || Ok(()),
        )
    }
}

/// Reads a small response body (a manifest, a config, a token), refusing a huge one.
pub fn read_document(response: &mut Response<Body>, url: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::Download {
            what: "a document".into(),
            url: url.to_string(),
            why: e.to_string(),
        })?;
    if out.len() as u64 > MAX_DOCUMENT {
        return Err(Error::BadResponse {
            url: url.to_string(),
            what: format!("the answer is over {MAX_DOCUMENT} bytes"),
        });
    }
    Ok(out)
}

/// The message of a registry's error answer (`{"errors":[{"code":..,"message":..}]}`), or its
/// status line.
pub fn error_message(response: &mut Response<Body>) -> String {
    let status = response.status();
    let body = read_document(response, "").unwrap_or_default();
    error_codes(&body)
        .into_iter()
        .map(|(code, message)| format!("{code}: {message}"))
        .next()
        .unwrap_or_else(|| status.to_string())
}

/// The `(code, message)` pairs of a registry's error body.
pub fn error_codes(body: &[u8]) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    serde_json::from_slice::<Errors>(body)
        .map(|e| {
            e.errors
                .into_iter()
                .map(|i| (i.code, i.message.replace(['\n', '\r'], " ")))
                .collect()
        })
        .unwrap_or_default()
}

/// Turns an unexpected answer into an error that says what was asked.
pub fn unexpected(method: &'static str, url: &str, response: &mut Response<Body>) -> Error {
    Error::Status {
        method,
        url: url.to_string(),
        status: response.status().as_u16(),
        message: error_message(response),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_may_be_plain_http() {
        let o = RegistryOptions {
            insecure: vec!["reg.lan:5000".into(), "other.lan".into()],
        };
        for ok in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "reg.lan:5000",
            "other.lan:443",
        ] {
            assert!(o.allows_http(ok), "{ok}");
        }
        for no in [
            "docker.io",
            "reg.lan:5001",
            "10.0.0.1:5000",
            "localhost.evil.com",
        ] {
            assert!(!o.allows_http(no), "{no}");
        }
    }
}

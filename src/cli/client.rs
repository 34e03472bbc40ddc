//! Talking to the running daemon over its HTTP face, for `play`, `stop`
//! and `status`. It owns the HTTP client side; it must not render
//! answers for people (the commands do).

use crate::config::load::Station;
use crate::store::{keys, Store};
use std::net::SocketAddr;
use std::time::Duration;

/// Why a request to the daemon did not get an answer it could use.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answers: the daemon is not running (or has no HTTP face).
    #[error("the daemon does not answer at {addr}: {detail}")]
    NotRunning { addr: String, detail: String },
    /// The daemon answered with an error.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        message_zh: String,
    },
}

/// The daemon's address and token.
pub struct Client {
    base: String,
    addr: String,
    token: Option<String>,
    agent: ureq::Agent,
    /// The run the store says answers there.
    instance: Option<String>,
}

impl Client {
    /// Where the daemon of `station` answers: the address it wrote to the
    /// store when it started (so `listen = "127.0.0.1:0"` works), else the
    /// configured one. `None` when it was stopped cleanly or never ran.
    pub fn find(station: &Station) -> Option<Client> {
        // The running daemon's own note first: it answers even when its
        // store cannot be read (a damaged or unchangeable database).
        if let Some((addr, instance)) = crate::config::load::running_control(&station.dir) {
            if let Ok(addr) = addr.parse() {
                let mut c = Client::new(addr, station.config.token.clone());
                c.instance = Some(instance);
                return Some(c);
            }
        }
        let store = Store::open_existing(&station.data_dir()).ok()?;
        let addr: SocketAddr = store.meta(keys::CONTROL_ADDR).ok()??.parse().ok()?;
        let mut c = Client::new(addr, station.config.token.clone());
        c.instance = store.meta(keys::CONTROL_INSTANCE).ok()?;
        Some(c)
    }

    /// `/api/status`, only from this station's own daemon: after a crash
    /// the recorded port may belong to another program (or another
    /// station's daemon), whose answer must not be taken for ours.
    ///
    /// # Errors
    /// [`ClientError`] when nothing answers, the daemon says no, or another
    /// program answers.
    pub fn status(&self, lang: crate::i18n::Lang) -> Result<serde_json::Value, ClientError> {
        let v = self.get(&format!("/api/status?lang={}", lang.code()))?;
        if self.instance.is_some() && v["instance"].as_str() != self.instance.as_deref() {
            return Err(ClientError::NotRunning {
                addr: self.addr.clone(),
                detail: "another program answers there".into(),
            });
        }
        Ok(v)
    }

    /// A client of the daemon at `addr`; an unspecified address
    /// (`0.0.0.0`) means this machine.
    pub fn new(mut addr: SocketAddr, token: Option<String>) -> Client {
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Client {
            base: format!("http://{addr}"),
            addr: addr.to_string(),
            token,
            agent,
            instance: None,
        }
    }

    /// The Authorization value. A header carries visible ASCII only, so a
    /// token in Chinese (README's example) is sent percent-encoded; the
    /// daemon takes either form.
    fn bearer(&self) -> Option<String> {
        let t = self.token.as_ref()?;
        Some(format!(
            "Bearer {}",
            percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
        ))
    }

    /// `GET path` → JSON.
    ///
    /// # Errors
    /// [`ClientError`] when nothing answers or the daemon says no.
    pub fn get(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(v) = self.bearer() {
            req = req.header("Authorization", v);
        }
        self.answer(req.call())
    }

    /// `POST path` with a JSON body → JSON.
    ///
    /// # Errors
    /// [`ClientError`] when nothing answers or the daemon says no.
    pub fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ClientError> {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(v) = self.bearer() {
            req = req.header("Authorization", v);
        }
        self.answer(req.send_json(body))
    }

    fn answer(
        &self,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<serde_json::Value, ClientError> {
        let mut resp = r.map_err(|e| ClientError::NotRunning {
            addr: self.addr.clone(),
            detail: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let v: serde_json::Value = resp
            .body_mut()
            .read_json()
            .unwrap_or(serde_json::Value::Null);
        if (200..300).contains(&status) {
            return Ok(v);
        }
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Err(ClientError::Api {
            status,
            code: s("error"),
            message: s("message"),
            message_zh: s("message_zh"),
        })
    }
}

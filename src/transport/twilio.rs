//! Twilio: the REST Messages resource for SMS and WhatsApp, the `X-Twilio-Signature` check
//! webhooks pass first, fetching inbound media, and readable reasons for Twilio's error codes.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::domain::channel::TwilioSender;
use crate::domain::chat::DeliveryStatus;

use super::{Cause, Lookup, Outbound, Provider, RetryCause, SendError, Sighting, Trouble};

/// `X-Twilio-Signature`: HMAC-SHA1 under the auth token of the URL Twilio called, followed by
/// every form field's name and value, sorted by name (then value), base64.
pub fn signature(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` signs this request, comparing in constant time. As Twilio's own libraries
/// do, the URL is tried as given and with its default port added or removed (Twilio signs the
/// URL as it was configured, and a proxy may have added or dropped `:443`).
pub fn verify(auth_token: &str, url: &str, fields: &[(String, String)], header: &str) -> bool {
    let mut ok = false;
    for candidate in [Some(url.to_owned()), other_port_form(url)].into_iter().flatten() {
        ok |= crate::crypto::constant_time_eq(&signature(auth_token, &candidate, fields), header);
    }
    ok
}

/// `https://host/x` ⇄ `https://host:443/x` (80 for http); `None` for another port.
fn other_port_form(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    match authority.rsplit_once(':') {
        Some((host, port)) if port == default => Some(format!("{scheme}://{host}{tail}")),
        Some((_, port)) if port.bytes().all(|b| b.is_ascii_digit()) => None,
        _ => Some(format!("{scheme}://{authority}:{default}{tail}")),
    }
}

/// A readable reason for a Twilio error code, for the message's page.
pub fn reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "20003" => "Twilio refused the account's credentials: check the auth token.",
        "21211" => "Not a valid phone number.",
        "21408" => "The Twilio account may not send to this country.",
        "21606" => "This sender number cannot send messages to this client.",
        "21610" => "The client has unsubscribed from these messages (replied STOP).",
        "21612" => "Twilio cannot route messages from this sender to this number.",
        "21614" => "This number cannot receive text messages.",
        "30003" => "The client's phone is unreachable.",
        "30004" => "The client's carrier blocked the message.",
        "30005" => "The number is unknown or no longer in service.",
        "30006" => "A landline or an unreachable carrier.",
        "30007" => "The carrier filtered the message as spam.",
        "63003" => "This number is not on WhatsApp.",
        "63016" => {
            "Outside WhatsApp's 24-hour window: the client has not written for a day, so only an \
             approved template may be sent."
        }
        "63018" => "WhatsApp's rate limit for this sender was reached.",
        _ => return None,
    })
}

/// One Twilio account, as a channel configures it.
#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: String,
    account_sid: String,
    auth_token: String,
}

#[derive(serde::Deserialize)]
struct ApiError {
    code: Option<i64>,
    message: Option<String>,
}

#[derive(serde::Deserialize)]
struct Created {
    sid: String,
}

#[derive(serde::Deserialize)]
struct MessagePage {
    messages: Vec<MessageJson>,
}

/// A message of Twilio's list, as it comes.
#[derive(serde::Deserialize)]
struct MessageJson {
    sid: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    date_created: Option<String>,
    #[serde(default)]
    messaging_service_sid: Option<String>,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    error_message: Option<String>,
}

/// A listed message with its fields read.
struct Listed {
    sid: String,
    body: String,
    status: String,
    direction: String,
    created_at: DateTime<Utc>,
    messaging_service_sid: Option<String>,
    error: Option<(String, String)>,
}

impl MessageJson {
    /// `None` for a message without a readable creation time (RFC 2822, as Twilio writes it).
    fn parse(self) -> Option<Listed> {
        let created_at = DateTime::parse_from_rfc2822(self.date_created.as_deref()?).ok()?.with_timezone(&Utc);
        let error = self.error_code.map(|code| {
            let code = code.to_string();
            let reason = reason(&code)
                .map(str::to_owned)
                .or(self.error_message)
                .unwrap_or_else(|| format!("Twilio error {code}"));
            (code, reason)
        });
        Some(Listed {
            sid: self.sid,
            body: self.body.unwrap_or_default(),
            status: self.status.unwrap_or_default(),
            direction: self.direction.unwrap_or_default(),
            created_at,
            messaging_service_sid: self.messaging_service_sid,
            error,
        })
    }
}

impl Listed {
    fn into_sighting(self) -> Sighting {
        Sighting {
            status: delivery_status(&self.status).unwrap_or(DeliveryStatus::Sent),
            provider_id: self.sid,
            error: self.error,
            created_at: self.created_at,
        }
    }
}

/// Twilio's message status as ours: `None` for the states before sending (queued, accepted,
/// scheduled, sending), which say no more than "sent" to us.
pub fn delivery_status(twilio: &str) -> Option<DeliveryStatus> {
    Some(match twilio {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" | "canceled" => DeliveryStatus::Failed,
        "undelivered" => DeliveryStatus::Undelivered,
        _ => return None,
    })
}

/// Whether Twilio's stored text is ours: the same, or ours after the prefix trial accounts add.
fn body_matches(stored: &str, ours: &str) -> bool {
    stored == ours || (stored.starts_with("Sent from your Twilio trial account - ") && stored.ends_with(ours))
}

/// `number` written as Twilio writes addresses of the channel `to` belongs to (`whatsapp:`).
fn to_address(to: &str, number: &str) -> String {
    if to.starts_with("whatsapp:") { format!("whatsapp:{number}") } else { number.to_owned() }
}

#[derive(serde::Deserialize)]
struct Account {
    friendly_name: String,
    status: String,
}

impl TwilioClient {
    pub fn new(http: reqwest::Client, base: &str, account_sid: &str, auth_token: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
        }
    }

    /// The account's name and status: the channel page's "Test connection".
    pub async fn check(&self) -> Result<String, Trouble> {
        let url = format!("{}/2010-04-01/Accounts/{}.json", self.base, self.account_sid);
        let response = self
            .http
            .get(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .send()
            .await
            .map_err(|e| Trouble::new(Cause::NoAnswer, without_url(&e)))?;
        let status = response.status();
        if status.is_success() {
            let account: Account = response.json().await.map_err(|e| Trouble::new(Cause::Unreadable, e.to_string()))?;
            Ok(format!("{} ({})", account.friendly_name, account.status))
        } else {
            let err: Option<ApiError> = response.json().await.ok();
            let cause = match status.as_u16() {
                401 | 403 | 404 => Cause::BadCredentials,
                _ => Cause::Refused,
            };
            Err(Trouble::new(cause, describe(status.as_u16(), err)))
        }
    }

    /// Sends one message; the answer's `sid` is the provider's id.
    pub async fn send(&self, form: &[(&str, String)]) -> Result<String, SendError> {
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", self.base, self.account_sid);
        let response =
            match self.http.post(url).basic_auth(&self.account_sid, Some(&self.auth_token)).form(form).send().await {
                Ok(r) => r,
                // No connection: the request never left.
                Err(e) if e.is_connect() => {
                    return Err(SendError::Retry {
                        cause: RetryCause::NoAnswer,
                        reason: format!("Twilio did not answer: {}", without_url(&e)),
                        after: None,
                    });
                }
                // It may have reached Twilio (a time-out, a connection lost mid-answer).
                Err(e) => {
                    return Err(SendError::Unknown { reason: format!("Twilio did not answer: {}", without_url(&e)) });
                }
            };
        let status = response.status();
        if status.is_success() {
            return match response.json::<Created>().await {
                Ok(created) => Ok(created.sid),
                // Created, but without its sid.
                Err(e) => Err(SendError::Unknown { reason: format!("Twilio's answer was unreadable: {e}") }),
            };
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let err: Option<ApiError> = response.json().await.ok();
        // Too many requests, or too busy to take one: nothing was created.
        if matches!(status.as_u16(), 429 | 503) {
            return Err(SendError::Retry {
                cause: RetryCause::Busy,
                reason: describe(status.as_u16(), err),
                after: retry_after,
            });
        }
        // Any other server error (or a gateway's time-out) may have come after the message was made.
        if status.is_server_error() {
            return Err(SendError::Unknown { reason: describe(status.as_u16(), err) });
        }
        let code =
            err.as_ref().and_then(|e| e.code).map(|c| c.to_string()).unwrap_or_else(|| status.as_u16().to_string());
        Err(SendError::Rejected { reason: describe(status.as_u16(), err), code })
    }

    /// The outbound messages to `to` (from `from`, or through the Messaging Service `service`)
    /// whose text is `body`, created at `since` or later: the Messages list filtered by To, From
    /// and DateSent, and once more without DateSent for messages Twilio has not yet sent.
    pub async fn find_sent(
        &self,
        to: &str,
        sender: &TwilioSender,
        body: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, String> {
        let mut filters = vec![("To", to.to_owned()), ("PageSize", "50".to_owned())];
        if let TwilioSender::From(phone) = sender {
            filters.push(("From", to_address(to, phone.as_str())));
        }
        let mut found = Vec::new();
        let day = (since - chrono::TimeDelta::minutes(5)).format("%Y-%m-%d").to_string();
        for date_sent in [Some(day), None] {
            let mut query = filters.clone();
            query.extend(date_sent.map(|d| ("DateSent>", d)));
            for m in self.list_messages(&query).await? {
                let service = m.messaging_service_sid.as_deref();
                let fits = m.direction.starts_with("outbound")
                    && body_matches(&m.body, body)
                    && m.created_at >= since - chrono::TimeDelta::minutes(1)
                    && match sender {
                        TwilioSender::Service(sid) => service == Some(sid.as_str()),
                        TwilioSender::From(_) => true,
                    };
                if fits && !found.iter().any(|s: &Sighting| s.provider_id == m.sid) {
                    found.push(m.into_sighting());
                }
            }
            if !found.is_empty() {
                break;
            }
        }
        Ok(found)
    }

    async fn list_messages(&self, query: &[(&str, String)]) -> Result<Vec<Listed>, String> {
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", self.base, self.account_sid);
        let response = self
            .http
            .get(url)
            .query(query)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .send()
            .await
            .map_err(|e| format!("Twilio did not answer: {}", without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let err: Option<ApiError> = response.json().await.ok();
            return Err(describe(status.as_u16(), err));
        }
        let page: MessagePage = response.json().await.map_err(|e| format!("Twilio's answer was unreadable: {e}"))?;
        Ok(page.messages.into_iter().filter_map(|m| m.parse()).collect())
    }

    /// Downloads an inbound message's file (Twilio's media URLs take the account's basic auth;
    /// a redirect to Twilio's CDN drops it). At most `limit` bytes.
    pub async fn fetch(&self, url: &str, limit: usize) -> Result<(bytes::Bytes, Option<String>), String> {
        if !url.starts_with(&format!("{}/", self.base)) && !url.starts_with("https://api.twilio.com/") {
            return Err("the media URL is not Twilio's".into());
        }
        let response = self
            .http
            .get(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .send()
            .await
            .map_err(|e| format!("Twilio did not answer: {}", without_url(&e)))?;
        if !response.status().is_success() {
            return Err(format!("Twilio answered {}", response.status()));
        }
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        read_limited(response, limit).await.map(|bytes| (bytes, content_type))
    }
}

/// Reads a body of at most `limit` bytes, stopping as soon as it is larger.
pub(super) async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<bytes::Bytes, String> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(format!("the file is larger than {} MB", limit / 1_000_000));
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| format!("the download broke off: {}", without_url(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("the file is larger than {} MB", limit / 1_000_000));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A reqwest error without its URL, which may carry a bot token.
pub(super) fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the connection failed".into()
    }
}

fn describe(status: u16, err: Option<ApiError>) -> String {
    let code = err.as_ref().and_then(|e| e.code).map(|c| c.to_string());
    match (code.as_deref().and_then(reason), err.and_then(|e| e.message)) {
        (Some(readable), _) => readable.to_owned(),
        (None, Some(message)) => format!("Twilio: {message}"),
        (None, None) => format!("Twilio answered {status}"),
    }
}

/// A channel's way out: its account, sender, and where Twilio reports delivery.
pub struct TwilioProvider {
    pub client: TwilioClient,
    pub sender: TwilioSender,
    pub whatsapp: bool,
    /// Our `/crm/webhooks/twilio/status` under `PUBLIC_URL`.
    pub status_callback: String,
}

impl TwilioProvider {
    fn address(&self, number: &str) -> String {
        if self.whatsapp { format!("whatsapp:{number}") } else { number.to_owned() }
    }
}

impl Provider for TwilioProvider {
    fn send<'a>(&'a self, message: &'a Outbound) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let mut form = vec![
                ("To", self.address(&message.to)),
                ("Body", message.body.clone()),
                ("StatusCallback", self.status_callback.clone()),
            ];
            match &self.sender {
                TwilioSender::From(phone) => form.push(("From", self.address(phone.as_str()))),
                TwilioSender::Service(sid) => form.push(("MessagingServiceSid", sid.clone())),
            }
            for file in &message.files {
                form.push(("MediaUrl", file.url.clone()));
            }
            self.client.send(&form).await
        })
    }

    fn lookup<'a>(&'a self, message: &'a Outbound, since: DateTime<Utc>) -> BoxFuture<'a, Lookup> {
        Box::pin(async move {
            match self.client.find_sent(&self.address(&message.to), &self.sender, &message.body, since).await {
                Ok(found) => Lookup::Found(found),
                Err(reason) => Lookup::Failed(reason),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[tokio::test]
    async fn twilio_out_of_reach_is_retried_as_no_answer() {
        // A port nothing listens on: the connection is refused before the request leaves.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = TwilioClient::new(reqwest::Client::new(), &format!("http://127.0.0.1:{port}"), "AC1", "token");
        let sent = client.send(&[("To", "+998901234567".to_owned())]).await;
        assert!(matches!(sent, Err(SendError::Retry { cause: RetryCause::NoAnswer, .. })), "{sent:?}");
    }

    /// Twilio's documented example (docs/contracts.md).
    #[test]
    fn the_signature_matches_twilios_documented_example() {
        let f = fields(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(signature("12345", url, &f), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        // The same request as signed at the URL with its default port.
        assert!(verify("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify("12345", url, &f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
        assert!(!verify("54321", url, &f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        let mut changed = f.clone();
        changed[2].1 = "1235".into();
        assert!(!verify("12345", url, &changed, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    /// Signatures made by Twilio's own helper library (twilio-python 9.13.0,
    /// `RequestValidator.compute_signature`), for requests like the ones our webhooks get.
    #[test]
    fn signatures_of_twilios_helper_library_verify() {
        let token = "0123456789abcdef0123456789abcdef";
        let account = ("AccountSid", "AC0123456789abcdef0123456789abcdef");
        let inbound = fields(&[
            account,
            ("MessageSid", "SM11111111111111111111111111111111"),
            ("From", "+998901112233"),
            ("To", "+998712000000"),
            ("Body", "Salom! Narxi qancha?"),
            ("NumMedia", "0"),
        ]);
        assert!(verify(token, "https://crm.example.com/crm/webhooks/twilio", &inbound, "BMmkhLUfWDg4Rc3XQ9/ReJfkXZ0="));
        let status = fields(&[
            account,
            ("MessageSid", "SM22222222222222222222222222222222"),
            ("From", "+998712000000"),
            ("To", "+998901112233"),
            ("MessageStatus", "delivered"),
            ("SmsStatus", "delivered"),
            ("ApiVersion", "2010-04-01"),
        ]);
        let url = "https://crm.example.com/crm/webhooks/twilio/status";
        assert!(verify(token, url, &status, "2XtYDko6poI7oMxdyI2ZxcUhrp8="));
        // Signed at the URL with :443 and a query, non-ASCII and `&`/`=`/`%` in the values;
        // our PUBLIC_URL has no port.
        let whatsapp = fields(&[
            account,
            ("From", "whatsapp:+998901112233"),
            ("To", "whatsapp:+998712000000"),
            ("Body", "Привет & до свидания = 100%"),
            ("ProfileName", "Ольга"),
        ]);
        let url = "https://crm.example.com/crm/webhooks/twilio?x=1";
        assert!(verify(token, url, &whatsapp, "D1430K2588pyc0ZafiJnWhONro4="));
        assert!(!verify(
            token,
            "https://crm.example.com/crm/webhooks/twilio?x=2",
            &whatsapp,
            "D1430K2588pyc0ZafiJnWhONro4="
        ));
    }

    #[test]
    fn urls_are_tried_with_and_without_their_default_port() {
        assert_eq!(other_port_form("https://a.example/x?y=1").as_deref(), Some("https://a.example:443/x?y=1"));
        assert_eq!(other_port_form("https://a.example:443/x").as_deref(), Some("https://a.example/x"));
        assert_eq!(other_port_form("http://a.example:80").as_deref(), Some("http://a.example"));
        assert_eq!(other_port_form("http://a.example:8080/x"), None);
        assert_eq!(other_port_form("ftp://a.example/x"), None);
    }

    #[test]
    fn known_error_codes_read_as_sentences() {
        assert!(reason("63016").unwrap().contains("24-hour"));
        assert_eq!(reason("99999"), None);
        assert_eq!(
            describe(400, Some(ApiError { code: Some(21211), message: Some("Invalid 'To'".into()) })),
            "Not a valid phone number."
        );
        assert_eq!(describe(400, Some(ApiError { code: Some(1), message: Some("Odd".into()) })), "Twilio: Odd");
        assert_eq!(describe(502, None), "Twilio answered 502");
    }
}

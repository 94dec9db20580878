//! `POST /crm/webhooks/twilio` (inbound SMS and WhatsApp) and `/crm/webhooks/twilio/status`
//! (delivery reports), both verified by `X-Twilio-Signature`.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::channel::{ChannelId, ChannelKind};
use crate::domain::{Phone, TenantId};
use crate::services::chats::TwilioReport;
use crate::services::inbound::{Arrived, Media, Origin, Received};
use crate::web::AppState;
use crate::web::error::AppError;

/// An empty TwiML answer: "received, nothing to reply".
fn twiml() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#,
    )
        .into_response()
}

/// A webhook's form fields, in the order sent.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &[u8]) -> Result<Self, AppError> {
        if std::str::from_utf8(body).is_err() {
            return Err(AppError::BadRequest("the body is not UTF-8".into()));
        }
        Ok(Fields(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn require(&self, name: &str) -> Result<&str, AppError> {
        self.get(name).ok_or_else(|| AppError::BadRequest(format!("{name} is missing")))
    }
}

/// Checks the request's signature with the auth token of the channel it names (`ours` is
/// the field with our number: To of an inbound message, From of a status report). Anything
/// unverifiable — no signature, no channel to check it with, a wrong one — is 403.
async fn verify(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    fields: &Fields,
    ours: &str,
) -> Result<(TenantId, ChannelId, ChannelKind), AppError> {
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).ok_or(AppError::Forbidden)?;
    let ours = fields.get(ours).ok_or(AppError::Forbidden)?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or(uri.path());
    let url = format!("{}{path}", state.config.public_url);
    state.channels.verify_twilio(&url, &fields.0, signature, ours).await?.ok_or(AppError::Forbidden)
}

pub async fn inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<Response, AppError> {
    let fields = Fields::parse(&body)?;
    let (tenant, channel, kind) = verify(&state, &headers, &uri, &fields, "To").await?;
    let sid = fields.require("MessageSid")?;
    let from = fields.require("From")?;
    let number = Phone::parse(from.trim_start_matches("whatsapp:"))
        .map_err(|_| AppError::BadRequest(format!("From is not a phone number: {from}")))?;
    let media_count: usize = fields.get("NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0).min(10);
    let media = (0..media_count)
        .filter_map(|i| {
            let url = fields.get(&format!("MediaUrl{i}"))?;
            Some(Media {
                source: url.to_owned(),
                file_name: None,
                content_type: fields.get(&format!("MediaContentType{i}")).map(str::to_owned),
            })
        })
        .collect();
    let arrived = Arrived {
        channel,
        transport: kind.transport(),
        provider_id: sid.to_owned(),
        from: Origin::Phone { number, profile_name: fields.get("ProfileName").map(str::to_owned) },
        body: fields.get("Body").unwrap_or("").to_owned(),
        media,
    };
    match state.inbound.receive(tenant, arrived).await? {
        Received::Stored(message) => {
            tracing::info!(tenant = %tenant.0, message = message.0, "Twilio message received")
        }
        Received::Duplicate => tracing::info!(tenant = %tenant.0, sid, "Twilio message delivered twice; kept once"),
    }
    Ok(twiml())
}

pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<Response, AppError> {
    let fields = Fields::parse(&body)?;
    let (tenant, _, _) = verify(&state, &headers, &uri, &fields, "From").await?;
    let error_code = fields.get("ErrorCode");
    let report = TwilioReport {
        sid: fields.require("MessageSid")?,
        status: fields.require("MessageStatus")?,
        error: error_code.map(|code| (code, fields.get("ErrorMessage"))),
    };
    if !state.chats.report_from_twilio(tenant, report).await? {
        tracing::info!(tenant = %tenant.0, "status report for a message we do not know, or changing nothing");
    }
    Ok(StatusCode::OK.into_response())
}

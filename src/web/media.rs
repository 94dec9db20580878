//! Attachments fetched by providers through expiring signed links (Twilio's MediaUrl): no
//! session, the link's signature is the permission.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::domain::TenantId;
use crate::domain::chat::ChatId;
use crate::web::AppState;
use crate::web::error::AppError;

#[derive(serde::Deserialize)]
pub struct Signed {
    expires: i64,
    sig: String,
}

pub async fn serve(
    State(state): State<AppState>,
    Path((tenant, chat, attachment)): Path<(uuid::Uuid, i64, i64)>,
    Query(signed): Query<Signed>,
) -> Result<Response, AppError> {
    let file = (TenantId(tenant), ChatId(chat), attachment);
    if !state.media_links().check(file, signed.expires, &signed.sig, chrono::Utc::now()) {
        return Err(AppError::Forbidden);
    }
    let (a, bytes) = state.chats.linked_attachment(file).await?;
    let encoded = crate::web::error::urlencode(&a.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

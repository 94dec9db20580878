//! Client import pages: upload a CSV, map its columns, dry-run or import it in the
//! background while a progress bar polls, then read (or download) what failed and why.

use crate::domain::client::import::Import;
use crate::domain::client::import::{Duplicates, Encoding, MAX_FILE_BYTES, Mapping, Status, Target};
use crate::domain::custom_field::{CustomField, FieldEntity, FieldKey};
use crate::domain::{ClientInput, Permission};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::client_imports::{
    ColumnView, ImportPage, ImportSummary, IssueView, MappingForm, Progress, Report, UploadPage, target_options,
};
use crate::web::views::{Area, FormErrors};
use axum::Form;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;

use super::render;

/// Report lines shown on the page; the CSV has them all.
const REPORT_ROWS: i64 = 200;

async fn upload_page(
    state: &AppState,
    me: &CurrentUser,
    encoding: Encoding,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let recent = state.imports.recent(&me.principal).await?;
    let page = UploadPage {
        shell: me.shell(Area::Clients),
        encodings: UploadPage::encodings(),
        encoding: encoding.as_str(),
        errors,
        recent: recent.iter().map(|i| ImportSummary::new(me.tr, i)).collect(),
        max_mb: MAX_FILE_BYTES / (1024 * 1024),
    };
    render(status, &page)
}

pub async fn new(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    upload_page(&state, &me, Encoding::Utf8, FormErrors::default(), StatusCode::OK).await
}

/// Takes the file (multipart: `file`, `encoding`), reads its header and rows, and opens the
/// mapping step. A file that cannot be read is reported beside its field.
pub async fn upload(State(state): State<AppState>, me: CurrentUser, form: Multipart) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let (file, encoding_raw) = match read_upload(form).await {
        Ok(parts) => parts,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            errors.add("file", me.tr.error("import_too_large"));
            (None, String::new())
        }
        Err(e) => return Err(AppError::BadRequest(e.body_text())),
    };
    let encoding = encoding_raw.parse::<Encoding>().unwrap_or_else(|e| {
        if !encoding_raw.is_empty() {
            errors.add(e.field, me.tr.error(e.code));
        }
        Encoding::Utf8
    });
    match &file {
        _ if !errors.is_empty() => {}
        None => errors.add("file", me.tr.error("required")),
        Some((_, bytes)) if bytes.is_empty() => errors.add("file", me.tr.error("import_empty")),
        Some((_, bytes)) if bytes.len() > MAX_FILE_BYTES => errors.add("file", me.tr.error("import_too_large")),
        Some((name, bytes)) => match state.imports.upload(&me.principal, name, bytes, encoding).await {
            Ok(id) => {
                let to = format!("/crm/clients/imports/{id}");
                return Ok(flash::redirect(&to, Flash::success("flash.import_uploaded")));
            }
            Err(ServiceError::Invalid(invalid)) => {
                for e in invalid {
                    errors.add(if e.field == "encoding" { "encoding" } else { "file" }, me.tr.error(e.code))
                }
            }
            Err(e) => return Err(e.into()),
        },
    }
    upload_page(&state, &me, encoding, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// The upload's parts: the file (name, bytes) if one was chosen, and the encoding.
async fn read_upload(
    mut form: Multipart,
) -> Result<(Option<(String, Vec<u8>)>, String), axum::extract::multipart::MultipartError> {
    let mut file = None;
    let mut encoding = String::new();
    while let Some(field) = form.next_field().await? {
        match field.name() {
            Some("file") => {
                // A name is only shown: a NUL in it (which nothing can store) is dropped.
                let name = field.file_name().unwrap_or_default().replace('\0', "");
                let bytes = field.bytes().await?;
                // A form sent without a chosen file has an empty, nameless part.
                if !(name.is_empty() && bytes.is_empty()) {
                    file = Some((name, bytes.to_vec()));
                }
            }
            Some("encoding") => encoding = field.text().await?,
            _ => {}
        }
    }
    Ok((file, encoding))
}

/// The mapping as a form shows it: what was sent, else what was saved, else a guess.
fn mapping_form(
    me: &CurrentUser,
    custom: &[CustomField],
    import: &Import,
    chosen: Option<&[String]>,
    duplicates: Duplicates,
    column_error: Option<(Option<usize>, &'static str)>,
) -> MappingForm {
    let as_form = |targets: &[Target]| targets.iter().map(ToString::to_string).collect::<Vec<String>>();
    let saved = import.mapping.as_deref().and_then(|m| Mapping::decode(m).ok()).map(|m| as_form(m.targets()));
    let keys: Vec<(FieldKey, String)> =
        custom.iter().filter_map(|f| Some((FieldKey::parse(&f.key).ok()?, f.label.clone()))).collect();
    let guessed = as_form(&Mapping::guess(&import.header, &keys));
    let selected =
        chosen.map(<[String]>::to_vec).or(saved).filter(|s| s.len() == import.header.len()).unwrap_or(guessed);
    let (error_column, error) = match column_error {
        Some((Some(i), code)) => (Some(i), Some(me.tr.error(code))),
        Some((None, code)) => (None, Some(me.tr.error(code))),
        None => (None, None),
    };
    MappingForm {
        columns: import
            .header
            .iter()
            .enumerate()
            .map(|(index, header)| ColumnView {
                index,
                header: header.clone(),
                samples: import
                    .sample
                    .iter()
                    .filter_map(|r| r.get(index))
                    .filter(|s| !s.trim().is_empty())
                    .take(3)
                    .cloned()
                    .collect(),
                selected: selected[index].clone(),
                error: if error_column == Some(index) { error } else { None },
            })
            .collect(),
        options: target_options(me.tr, custom),
        duplicates: duplicates.as_str(),
        can_merge: me.principal.can(Permission::ClientUpdate),
        error: if error_column.is_none() { error } else { None },
        checked: import.status == Status::Checked,
    }
}

async fn import_page(
    state: &AppState,
    me: &CurrentUser,
    import: Import,
    mapping: Option<MappingForm>,
) -> Result<ImportPage, AppError> {
    let custom = state.custom_fields.list(&me.principal, FieldEntity::Client).await?;
    let has_report = matches!(import.status, Status::Checked | Status::Done | Status::Cancelled | Status::Failed);
    let report = if has_report {
        let rows = state.imports.issues(&me.principal, import.id, REPORT_ROWS + 1, 0).await?;
        let truncated = rows.len() as i64 > REPORT_ROWS;
        let rows = rows
            .iter()
            .take(REPORT_ROWS as usize)
            .map(|r| IssueView::new(me.tr, import.duplicates, r, &custom))
            .collect();
        Some(Report { rows, truncated })
    } else {
        None
    };
    let mapping = match mapping {
        Some(m) => Some(m),
        None if import.status.can_start() => Some(mapping_form(me, &custom, &import, None, import.duplicates, None)),
        None => None,
    };
    Ok(ImportPage {
        shell: me.shell(Area::Clients),
        id: import.id,
        file_name: import.file_name.clone(),
        created_by: import.created_by.clone(),
        created: me.tr.datetime(&import.created_at),
        rows_total: import.rows_total,
        progress: Progress::new(me.tr, me.csrf.clone(), &import, true),
        mapping,
        report,
    })
}

pub async fn show(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let import = state.imports.get(&me.principal, id).await?;
    render(StatusCode::OK, &import_page(&state, &me, import, None).await?)
}

/// The progress box, polled every second while a run goes on. When the run has ended, the
/// page reloads (htmx) to show the report.
pub async fn progress(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let import = state.imports.get(&me.principal, id).await?;
    let fragment = Progress::new(me.tr, me.csrf.clone(), &import, true);
    let mut response = render(StatusCode::OK, &fragment)?;
    if headers.contains_key("hx-request") && !import.status.in_progress() {
        response.headers_mut().insert("hx-refresh", header::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Starts a dry run or the import with the columns mapped as sent (`col_0`, `col_1`, …).
pub async fn start(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let import = state.imports.get(&me.principal, id).await?;
    let value = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let chosen: Vec<String> =
        (0..import.header.len()).map(|i| value(&format!("col_{i}")).unwrap_or_default().to_owned()).collect();
    let duplicates =
        value("duplicates").unwrap_or("skip").parse::<Duplicates>().map_err(|e| AppError::Invalid(vec![e]))?;
    let dry_run = match value("action") {
        Some("dry_run") => true,
        Some("import") => false,
        _ => return Err(AppError::BadRequest("action must be dry_run or import".into())),
    };
    let targets: Result<Vec<Target>, usize> =
        chosen.iter().enumerate().map(|(i, raw)| raw.parse::<Target>().map_err(|_| i)).collect();
    let mapping = match targets {
        Err(i) => Err((Some(i), "invalid_choice")),
        Ok(targets) => Mapping::new(targets).map_err(|e| (e.column, e.code)),
    };
    let mapping = match mapping {
        Ok(m) => m,
        Err(error) => {
            let custom = state.custom_fields.list(&me.principal, FieldEntity::Client).await?;
            let form = mapping_form(&me, &custom, &import, Some(&chosen), duplicates, Some(error));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &import_page(&state, &me, import, Some(form)).await?);
        }
    };
    state.imports.start(&me.principal, id, &mapping, duplicates, dry_run).await?;
    let message = if dry_run { "flash.import_checking" } else { "flash.import_started" };
    Ok(flash::redirect(&format!("/crm/clients/imports/{id}"), Flash::success(message)))
}

pub async fn cancel(State(state): State<AppState>, me: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    state.imports.cancel(&me.principal, id).await?;
    Ok(flash::redirect(&format!("/crm/clients/imports/{id}"), Flash::success("flash.import_cancelled")))
}

/// A file to start from: the columns an import reads without mapping, and one example row.
pub async fn sample_csv(State(state): State<AppState>, me: CurrentUser) -> Result<Response, AppError> {
    state.imports.authorize(&me.principal)?;
    let header: Vec<&str> = ClientInput::importable().chain(["telegram", "whatsapp"]).collect();
    let example_of = |column: &str| match column {
        "first_name" => "Dilnoza",
        "last_name" => "Karimova",
        "phone" | "whatsapp" => "+998 90 123 45 67",
        "email" => "dilnoza@example.uz",
        "address" => "Tashkent, Amir Temur 1",
        "date_of_birth" => "1990-03-05",
        "gender" => "female",
        "passport_series" => "AA",
        "passport_number" => "1234567",
        "job_title" => "Buyer",
        "telegram" => "dilnoza_k",
        _ => "",
    };
    let example: Vec<&str> = header.iter().map(|c| example_of(c)).collect();
    let body = format!("\u{feff}{}{}", crate::domain::csv::line(&header), crate::domain::csv::line(&example));
    Ok(crate::web::download::csv("clients-sample.csv", body))
}

/// Every failed or skipped row with why, and the row's own cells: fix them and import again.
pub async fn report_csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (import, rows) = state.imports.report(&me.principal, id).await?;
    let tr = me.tr;
    let custom = state.custom_fields.list(&me.principal, FieldEntity::Client).await?;
    let mut header: Vec<String> = ["import.line", "import.outcome", "import.field", "import.problem"]
        .iter()
        .map(|k| tr.t(k).to_owned())
        .collect();
    header.extend(import.header.iter().cloned());
    let mut out = crate::domain::csv::line(&header);
    for (row, cells) in &rows {
        let view = IssueView::new(tr, import.duplicates, row, &custom);
        let mut line = vec![
            view.line.to_string(),
            tr.t(view.outcome).to_owned(),
            view.field.clone(),
            match &view.client {
                Some((cid, name)) => format!("{} {name} (#{cid})", view.message),
                None => view.message.clone(),
            },
        ];
        line.extend(cells.iter().cloned());
        out.push_str(&crate::domain::csv::line(&line));
    }
    let stem = import.file_name.trim_end_matches(".csv").replace(|c: char| !c.is_alphanumeric() && c != '-', "_");
    Ok(crate::web::download::csv(&format!("{stem}-report.csv"), format!("\u{feff}{out}")))
}

/// The import's pages; the upload itself is in `upload_routes` (a larger body).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/crm/clients/import", get(new))
        .route("/crm/clients/import/sample.csv", get(sample_csv))
        .route("/crm/clients/imports/{id}", get(show))
        .route("/crm/clients/imports/{id}/progress", get(progress))
        .route("/crm/clients/imports/{id}/start", post(start))
        .route("/crm/clients/imports/{id}/cancel", post(cancel))
        .route("/crm/clients/imports/{id}/report.csv", get(report_csv))
}

/// The CSV upload, with a body limit of its own (the file at its limit and the framing).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/crm/clients/imports", post(upload))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(crate::web::MAX_UPLOAD_BYTES))
}

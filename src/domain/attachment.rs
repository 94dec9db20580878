//! Files that travel with messages: which are accepted, how large, and under what name. The
//! type is decided from the bytes where it matters (images shown inline), never from the
//! browser's word alone.

use super::DomainError;

/// The largest file accepted: WhatsApp's limit for media, well under Telegram's.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Files per message.
pub const MAX_FILES: usize = 5;

/// The content types accepted, by file name extension. Images are checked against their
/// first bytes; other types are served as downloads only, so a lie cannot run in a page.
const ACCEPTED: [(&str, &str); 17] = [
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("doc", "application/msword"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xls", "application/vnd.ms-excel"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ogg", "audio/ogg"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("mp4", "video/mp4"),
    ("zip", "application/zip"),
];

/// A file fit to store: a clean name, its content type, its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub file_name: String,
    pub content_type: &'static str,
}

impl FileSpec {
    /// Checks an uploaded file: a known extension, not empty, not too large, and an image's
    /// bytes really that image.
    pub fn check(raw_name: &str, bytes: &[u8]) -> Result<Self, DomainError> {
        let err = |code| DomainError::new("files", code);
        let file_name = clean_name(raw_name);
        if bytes.is_empty() {
            return Err(err("file_empty"));
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(err("file_too_large"));
        }
        let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let content_type =
            ACCEPTED.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t).ok_or(err("file_type_not_allowed"))?;
        if shows_inline(content_type) && sniff_image(bytes) != Some(content_type) {
            return Err(err("file_not_an_image"));
        }
        Ok(Self { file_name, content_type })
    }
}

impl FileSpec {
    /// A file a client sent through a channel: kept whatever it is, typed by its bytes when
    /// it is an image, else by the provider's word for a type we know, else as opaque bytes;
    /// named as the provider named it, else after its type.
    pub fn received(name: Option<&str>, said_type: Option<&str>, bytes: &[u8]) -> Self {
        let said = said_type.map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let known = ACCEPTED.iter().find(|(_, t)| said.as_deref() == Some(*t) && !shows_inline(t));
        let content_type = sniff_image(bytes).or(known.map(|(_, t)| *t)).unwrap_or("application/octet-stream");
        let ext = ACCEPTED.iter().find(|(_, t)| *t == content_type).map_or("bin", |(e, _)| *e);
        let file_name = match name.map(clean_name) {
            Some(n) if n != "file" => n,
            _ => format!("file.{ext}"),
        };
        Self { file_name, content_type }
    }
}

/// Whether a stored file may be shown inside a page: raster images only (an SVG can carry
/// script), whatever a channel said the file was; anything else is served as a download.
pub fn shows_inline(content_type: &str) -> bool {
    matches!(content_type, "image/jpeg" | "image/png" | "image/gif" | "image/webp")
}

/// The image type the first bytes announce.
fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// A file name safe to show and to put in a Content-Disposition header: the last path part,
/// no control characters or quotes, at most 255 characters; "file" when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name: String =
        last.chars().filter(|c| !c.is_control() && !matches!(c, '"' | ';')).take(255).collect::<String>();
    let name = name.trim().trim_start_matches('.').to_owned();
    if name.is_empty() { "file".to_owned() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn received_files_are_typed_by_their_bytes_before_the_providers_word() {
        let photo = FileSpec::received(None, Some("image/jpeg"), PNG);
        assert_eq!((photo.file_name.as_str(), photo.content_type), ("file.png", "image/png"));
        let voice = FileSpec::received(Some("voice/file_7.oga"), Some("audio/ogg"), b"OggS");
        assert_eq!((voice.file_name.as_str(), voice.content_type), ("file_7.oga", "audio/ogg"));
        let fake = FileSpec::received(Some("x.html"), Some("text/html"), b"<script>");
        assert_eq!((fake.file_name.as_str(), fake.content_type), ("x.html", "application/octet-stream"));
        assert_eq!(FileSpec::received(None, Some("image/gif"), b"not a gif").content_type, "application/octet-stream");
    }

    #[test]
    fn images_must_be_what_their_name_says() {
        assert_eq!(FileSpec::check("photo.PNG", PNG).unwrap().content_type, "image/png");
        assert_eq!(FileSpec::check("photo.jpg", PNG).unwrap_err().code, "file_not_an_image");
        assert_eq!(FileSpec::check("page.html", b"<script>").unwrap_err().code, "file_type_not_allowed");
        assert_eq!(FileSpec::check("a.pdf", b"").unwrap_err().code, "file_empty");
        assert_eq!(FileSpec::check("a.pdf", &vec![1; MAX_FILE_BYTES + 1]).unwrap_err().code, "file_too_large");
        assert_eq!(FileSpec::check("contract.pdf", b"%PDF-1.7").unwrap().content_type, "application/pdf");
    }

    #[test]
    fn only_raster_images_show_in_a_page() {
        assert!(shows_inline("image/png") && shows_inline("image/webp"));
        assert!(!shows_inline("image/svg+xml"), "an SVG may carry script");
        assert!(!shows_inline("application/pdf") && !shows_inline("text/html"));
    }

    #[test]
    fn names_lose_paths_quotes_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\a\\scan \"1\".pdf"), "scan 1.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\r\nb.txt"), "ab.txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name("счёт.pdf"), "счёт.pdf");
    }
}

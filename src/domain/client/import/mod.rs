//! Client CSV import, the pure part: reading a file in its dialect (encoding, delimiter,
//! header), mapping its columns to client fields, and turning one row into client input.

use std::str::FromStr;

use crate::domain::DomainError;

mod mapping;
mod report;
mod sheet;

pub use mapping::{Mapping, MappingError, Target};
pub use report::{Counts, Import, Issue, IssueRow};
pub use sheet::{Row, Sheet};

/// The largest file accepted, and the most rows and columns read from it.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
pub const MAX_ROWS: usize = 250_000;
pub const MAX_COLUMNS: usize = 64;

/// The text encodings a spreadsheet saves CSV in, that we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Cyrillic Excel on Windows.
    Windows1251,
    /// Western Excel on Windows.
    Windows1252,
}

impl Encoding {
    pub const ALL: [Encoding; 3] = [Encoding::Utf8, Encoding::Windows1251, Encoding::Windows1252];

    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1251 => "windows-1251",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// The file as text. UTF-8 must be valid (a byte-order mark is dropped); the Windows code
    /// pages map every byte. A NUL byte means it is no text CSV (UTF-16, a spreadsheet).
    pub fn decode(self, bytes: &[u8]) -> Result<String, DomainError> {
        if bytes.contains(&0) {
            return Err(DomainError::new("file", "import_has_nul"));
        }
        let invalid = || DomainError::new("encoding", "import_not_utf8");
        match self {
            Encoding::Utf8 => {
                let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                String::from_utf8(bytes.to_vec()).map_err(|_| invalid())
            }
            Encoding::Windows1251 => Ok(encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes).0.into_owned()),
            Encoding::Windows1252 => Ok(encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()),
        }
    }
}

impl FromStr for Encoding {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Encoding::ALL.into_iter().find(|e| e.as_str() == s).ok_or(DomainError::new("encoding", "invalid_choice"))
    }
}

/// Where an import stands. `Uploaded` and `Checked` (a dry run finished) wait for the user;
/// `Queued` and `Running` belong to the worker; the rest are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Uploaded,
    Queued,
    Running,
    Checked,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Uploaded,
        Status::Queued,
        Status::Running,
        Status::Checked,
        Status::Done,
        Status::Failed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Uploaded => "uploaded",
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Checked => "checked",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// A run may start (again) with a new mapping.
    pub fn can_start(self) -> bool {
        matches!(self, Status::Uploaded | Status::Checked)
    }

    /// The worker has it, or will soon.
    pub fn in_progress(self) -> bool {
        matches!(self, Status::Queued | Status::Running)
    }
}

impl FromStr for Status {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|x| x.as_str() == s).ok_or(DomainError::new("status", "invalid_choice"))
    }
}

/// What to do with a row whose phone or email an existing client already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Leave the existing client as it is.
    Skip,
    /// Fill the existing client with the row's non-empty cells and add its contacts.
    Merge,
}

impl Duplicates {
    pub fn as_str(self) -> &'static str {
        match self {
            Duplicates::Skip => "skip",
            Duplicates::Merge => "merge",
        }
    }
}

impl FromStr for Duplicates {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skip" => Ok(Duplicates::Skip),
            "merge" => Ok(Duplicates::Merge),
            _ => Err(DomainError::new("duplicates", "invalid_choice")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::ContactType;
    use crate::domain::custom_field::FieldKey;

    #[test]
    fn semicolons_and_a_bom_and_blank_lines_are_read() {
        let text = Encoding::Utf8.decode("\u{feff}Имя;Телефон;\n\nАнна;+998 90 123 45 67;x\n".as_bytes()).unwrap();
        let sheet = Sheet::parse(&text).unwrap();
        assert_eq!(sheet.delimiter, b';');
        assert_eq!(sheet.header, ["Имя", "Телефон", "Column 3"]);
        assert_eq!(sheet.rows, [Row { line: 3, cells: vec!["Анна".into(), "+998 90 123 45 67".into(), "x".into()] }]);
    }

    #[test]
    fn quoted_cells_keep_delimiters_and_line_breaks() {
        let sheet = Sheet::parse("name,comments\n\"Ann\",\"one, two\nthree\"\n").unwrap();
        assert_eq!(sheet.delimiter, b',');
        assert_eq!(sheet.rows[0].cells[1], "one, two\nthree");
        assert_eq!(sheet.rows[0].line, 2);
    }

    #[test]
    fn files_without_rows_or_in_another_encoding_are_refused() {
        assert_eq!(Sheet::parse("").unwrap_err().code, "import_empty");
        assert_eq!(Sheet::parse("name,phone\n").unwrap_err().code, "import_no_rows");
        assert_eq!(Encoding::Utf8.decode(b"\xc8\xec\xff").unwrap_err().code, "import_not_utf8");
        assert_eq!(Encoding::Windows1251.decode(b"\xc8\xec\xff").unwrap(), "Имя");
        // UTF-16 (Excel's "Unicode text") is full of NUL bytes, which no text column can hold.
        assert_eq!(Encoding::Utf8.decode(b"n\0a\0m\0e\0").unwrap_err().code, "import_has_nul");
        assert_eq!(Encoding::Windows1252.decode(b"a,b\n\0,c").unwrap_err().code, "import_has_nul");
    }

    #[test]
    fn headers_are_guessed_in_three_languages_and_from_our_export() {
        let header: Vec<String> =
            ["Фамилия", "Имя", "Tel", "E-mail", "Telegram", "first_name", "contacts", "id"].map(String::from).into();
        assert_eq!(
            Mapping::guess(&header, &[]),
            [
                Target::Field("last_name"),
                Target::Field("first_name"),
                Target::Field("phone"),
                Target::Field("email"),
                Target::Contact(ContactType::Telegram),
                Target::Ignore, // first_name again
                Target::ContactList,
                Target::Ignore,
            ]
        );
    }

    #[test]
    fn a_mapping_needs_the_first_name_once_and_round_trips() {
        use Target::*;
        assert_eq!(Mapping::new(vec![Field("phone")]).unwrap_err().code, "import_first_name_unmapped");
        let twice = Mapping::new(vec![Field("first_name"), Field("phone"), Field("phone")]).unwrap_err();
        assert_eq!(twice, MappingError { column: Some(2), code: "import_mapped_twice" });
        let m =
            Mapping::new(vec![Field("first_name"), Ignore, Contact(ContactType::Phone), Contact(ContactType::Phone)])
                .unwrap();
        assert_eq!(m.encode(), "first_name,,contact:phone,contact:phone");
        assert_eq!(Mapping::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn custom_fields_are_guessed_by_key_or_label_mapped_once_and_read_as_text() {
        use Target::*;
        let tier = FieldKey::parse("tier").unwrap();
        let custom = [(tier.clone(), "Loyalty tier".to_owned())];
        let header: Vec<String> = ["Имя", "custom.tier", "LOYALTY TIER", "custom.gone"].map(String::from).into();
        assert_eq!(Mapping::guess(&header, &custom), [Field("first_name"), Custom(tier.clone()), Ignore, Ignore]);
        let twice = Mapping::new(vec![Field("first_name"), Custom(tier.clone()), Custom(tier.clone())]).unwrap_err();
        assert_eq!(twice, MappingError { column: Some(2), code: "import_mapped_twice" });
        let m = Mapping::new(vec![Field("first_name"), Custom(tier.clone())]).unwrap();
        assert_eq!(m.encode(), "first_name,custom.tier");
        assert_eq!(Mapping::decode(&m.encode()).unwrap(), m);
        assert!(Mapping::decode("first_name,custom.Bad Key").is_err());
        let (input, _) = m.row(&["Ann".into(), " Gold ".into()]);
        assert_eq!(input.custom.unwrap()["tier"], "Gold");
    }

    #[test]
    fn a_row_becomes_input_with_spreadsheet_dates_genders_and_contacts() {
        use Target::*;
        let m = Mapping::new(vec![Field("first_name"), Field("date_of_birth"), Field("gender"), ContactList]).unwrap();
        // A cell our export guarded against spreadsheet formulas ('@…) reads as it was.
        let cells = ["  Ann ", "5.3.1990", "Ж", "'@ann; phone:+998901234567"].map(String::from);
        let (input, contacts) = m.row(&cells);
        assert_eq!(input.first_name.as_deref(), Some("Ann"));
        assert_eq!(input.custom, None, "no custom column, no custom values");
        assert_eq!(input.date_of_birth.as_deref(), Some("1990-03-05"));
        assert_eq!(input.gender.as_deref(), Some("female"));
        assert_eq!(
            contacts,
            [(ContactType::Other, "@ann".to_owned()), (ContactType::Phone, "+998901234567".to_owned())]
        );
    }
}

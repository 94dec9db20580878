//! Client CSV import, the pure part: reading a file in its dialect (encoding, delimiter,
//! header), mapping its columns to client fields, and turning one row into client input.

use std::fmt;
use std::str::FromStr;

use super::{ClientInput, ContactType};
use crate::domain::DomainError;

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

/// A CSV file read into memory: its delimiter, header and rows (header excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub delimiter: u8,
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

/// One row of a sheet and the line of the file it starts on (what a report names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u32,
    pub cells: Vec<String>,
}

impl Sheet {
    /// Reads `text`, guessing the delimiter (comma, semicolon or tab) from the first line.
    /// Blank lines are skipped; a missing header name becomes "Column N".
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let error = |code| DomainError::new("file", code);
        let delimiter = guess_delimiter(text);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = loop {
            match records.next() {
                None => return Err(error("import_empty")),
                Some(Err(_)) => return Err(error("import_unreadable")),
                Some(Ok(r)) if r.iter().all(|c| c.trim().is_empty()) => continue,
                Some(Ok(r)) => break r,
            }
        };
        if header.len() > MAX_COLUMNS {
            return Err(error("import_too_many_columns"));
        }
        let header: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| if h.trim().is_empty() { format!("Column {}", i + 1) } else { h.trim().to_owned() })
            .collect();
        let mut rows = Vec::new();
        let mut lines = LineCounter::new(text);
        for record in records {
            let record = record.map_err(|_| error("import_unreadable"))?;
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            if rows.len() == MAX_ROWS {
                return Err(error("import_too_many_rows"));
            }
            let line = lines.line_at(record.position().map_or(0, |p| p.byte() as usize));
            rows.push(Row { line, cells: record.iter().take(header.len()).map(str::to_owned).collect() });
        }
        if rows.is_empty() {
            return Err(error("import_no_rows"));
        }
        Ok(Self { delimiter, header, rows })
    }
}

/// Line numbers of records, which the csv reader counts from before the blank lines it skips.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self { text: text.as_bytes(), at: 0, line: 1 }
    }

    /// The line of the first non-blank byte at or after `byte` (offsets only grow).
    fn line_at(&mut self, byte: usize) -> u32 {
        let mut start = byte.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line += self.text[self.at..start].iter().filter(|&&b| b == b'\n').count() as u32;
        self.at = start;
        self.line
    }
}

/// The delimiter that occurs most often, outside quotes, in the first line.
fn guess_delimiter(text: &str) -> u8 {
    let mut counts = [(b',', 0), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map_or(b',', |(d, _)| *d)
}

/// Where one column's values go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ignore,
    /// A client field, one of `ClientInput::FIELDS`.
    Field(&'static str),
    /// A contact of one type.
    Contact(ContactType),
    /// Contacts as our own export writes them: `type:value; type:value`.
    ContactList,
}

impl Target {
    /// Every choice a column offers, in the order a picker lists them.
    pub fn all() -> Vec<Target> {
        let mut all = vec![Target::Ignore];
        all.extend(ClientInput::FIELDS.iter().map(|f| Target::Field(f)));
        all.extend(ContactType::ALL.iter().map(|&t| Target::Contact(t)));
        all.push(Target::ContactList);
        all
    }

    /// A best guess from a column's header, in English, Russian or Uzbek, or in our export's
    /// own names.
    pub fn guess(header: &str) -> Target {
        let key: String = header
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        const NAMES: &[(&str, &[&str])] = &[
            ("first_name", &["first name", "firstname", "name", "given name", "имя", "ism"]),
            ("last_name", &["last name", "lastname", "surname", "family name", "фамилия", "familiya"]),
            ("middle_name", &["middle name", "patronymic", "отчество", "otasining ismi", "sharif"]),
            ("phone", &["phone", "mobile", "tel", "telephone", "phone number", "телефон", "telefon", "tel raqam"]),
            ("email", &["email", "e mail", "mail", "почта", "электронная почта", "elektron pochta"]),
            ("address", &["address", "адрес", "manzil"]),
            ("date_of_birth", &["date of birth", "birthday", "birth date", "dob", "дата рождения", "tug ilgan sana"]),
            ("gender", &["gender", "sex", "пол", "jins"]),
            ("pin", &["pin", "tin", "inn", "pinfl", "tax id", "инн", "пинфл", "stir", "jshshir"]),
            ("passport_series", &["passport series", "серия паспорта", "серия", "pasport seriyasi"]),
            ("passport_number", &["passport number", "passport", "номер паспорта", "паспорт", "pasport raqami"]),
            ("comments", &["comments", "comment", "notes", "note", "комментарий", "примечание", "izoh"]),
        ];
        if let Some(field) = ClientInput::FIELDS.iter().find(|f| f.replace('_', " ") == key) {
            return Target::Field(field);
        }
        if let Some((field, _)) = NAMES.iter().find(|(_, names)| names.contains(&key.as_str())) {
            return Target::Field(field);
        }
        match key.as_str() {
            "telegram" | "tg" | "телеграм" | "телеграмм" => Target::Contact(ContactType::Telegram),
            "whatsapp" | "ватсап" | "вотсап" => Target::Contact(ContactType::Whatsapp),
            "contacts" | "контакты" | "kontaktlar" => Target::ContactList,
            _ => Target::Ignore,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ignore => Ok(()),
            Target::Field(name) => f.write_str(name),
            Target::Contact(kind) => write!(f, "contact:{kind}"),
            Target::ContactList => f.write_str("contacts"),
        }
    }
}

impl FromStr for Target {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::all().into_iter().find(|t| t.to_string() == s).ok_or(DomainError::new("mapping", "invalid_choice"))
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

/// One target per column of a sheet, checked: the first name is mapped, and no client field
/// is mapped twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping(Vec<Target>);

/// A mapping refused, naming the column (by index) at fault, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    pub column: Option<usize>,
    pub code: &'static str,
}

impl Mapping {
    pub fn new(targets: Vec<Target>) -> Result<Self, MappingError> {
        for (i, t) in targets.iter().enumerate() {
            if matches!(t, Target::Field(_)) && targets[..i].contains(t) {
                return Err(MappingError { column: Some(i), code: "import_mapped_twice" });
            }
        }
        if !targets.contains(&Target::Field("first_name")) {
            return Err(MappingError { column: None, code: "import_first_name_unmapped" });
        }
        Ok(Self(targets))
    }

    /// The guess for every column of `header` (the first name is not guaranteed).
    pub fn guess(header: &[String]) -> Vec<Target> {
        let mut targets: Vec<Target> = Vec::new();
        for h in header {
            let t = Target::guess(h);
            // A field claimed by an earlier column is left for the user to place.
            targets.push(if matches!(t, Target::Field(_)) && targets.contains(&t) { Target::Ignore } else { t });
        }
        targets
    }

    pub fn targets(&self) -> &[Target] {
        &self.0
    }

    /// Stored form: one target per column, comma-separated.
    pub fn encode(&self) -> String {
        self.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }

    pub fn decode(stored: &str) -> Result<Self, MappingError> {
        let targets = stored
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<Target>, _>>()
            .map_err(|_| MappingError { column: None, code: "invalid_choice" })?;
        Self::new(targets)
    }

    /// One row as client input and contacts `(type, raw value)`. Cells are read as
    /// spreadsheets write them: `31.12.1990` is a date, `M`/`Ж` a gender.
    pub fn row(&self, cells: &[String]) -> (ClientInput, Vec<(ContactType, String)>) {
        let mut input = ClientInput::default();
        let mut contacts = Vec::new();
        for (target, cell) in self.0.iter().zip(cells) {
            let cell = crate::domain::csv::unguarded(cell.trim());
            if cell.is_empty() {
                continue;
            }
            match target {
                Target::Ignore => {}
                Target::Field(field) => {
                    let value = match *field {
                        "date_of_birth" => spreadsheet_date(cell),
                        "gender" => spreadsheet_gender(cell),
                        _ => cell.to_owned(),
                    };
                    *input.field_mut(field) = Some(value);
                }
                Target::Contact(kind) => contacts.push((*kind, cell.to_owned())),
                Target::ContactList => {
                    for item in cell.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                        let (kind, value) = item.split_once(':').unwrap_or(("other", item));
                        let kind = kind.trim().parse().unwrap_or(ContactType::Other);
                        contacts.push((kind, value.trim().to_owned()));
                    }
                }
            }
        }
        (input, contacts)
    }
}

/// `DD.MM.YYYY` and `DD/MM/YYYY` as ISO dates; anything else unchanged (and checked later).
fn spreadsheet_date(cell: &str) -> String {
    let parts: Vec<&str> = cell.split(['.', '/']).collect();
    match parts.as_slice() {
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => cell.to_owned(),
    }
}

fn spreadsheet_gender(cell: &str) -> String {
    match cell.to_lowercase().as_str() {
        "m" | "male" | "man" | "м" | "муж" | "мужской" | "erkak" => "male".into(),
        "f" | "female" | "woman" | "ж" | "жен" | "женский" | "ayol" => "female".into(),
        other => other.to_owned(),
    }
}

impl ClientInput {
    /// The slot of a field named in `FIELDS`.
    pub fn field_mut(&mut self, field: &str) -> &mut Option<String> {
        match field {
            "first_name" => &mut self.first_name,
            "last_name" => &mut self.last_name,
            "middle_name" => &mut self.middle_name,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "address" => &mut self.address,
            "date_of_birth" => &mut self.date_of_birth,
            "gender" => &mut self.gender,
            "pin" => &mut self.pin,
            "passport_series" => &mut self.passport_series,
            "passport_number" => &mut self.passport_number,
            _ => &mut self.comments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Mapping::guess(&header),
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
    fn a_row_becomes_input_with_spreadsheet_dates_genders_and_contacts() {
        use Target::*;
        let m = Mapping::new(vec![Field("first_name"), Field("date_of_birth"), Field("gender"), ContactList]).unwrap();
        // A cell our export guarded against spreadsheet formulas ('@…) reads as it was.
        let cells = ["  Ann ", "5.3.1990", "Ж", "'@ann; phone:+998901234567"].map(String::from);
        let (input, contacts) = m.row(&cells);
        assert_eq!(input.first_name.as_deref(), Some("Ann"));
        assert_eq!(input.date_of_birth.as_deref(), Some("1990-03-05"));
        assert_eq!(input.gender.as_deref(), Some("female"));
        assert_eq!(
            contacts,
            [(ContactType::Other, "@ann".to_owned()), (ContactType::Phone, "+998901234567".to_owned())]
        );
    }
}

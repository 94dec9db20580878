//! A CSV file read into a sheet: its delimiter guessed, its header, and its rows with the line
//! each starts on.

use crate::domain::DomainError;

use super::{MAX_COLUMNS, MAX_ROWS};

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

//! Durable term, vote and log in a data directory, for `kvnode --data-dir`.
//!
//! Two files:
//!
//! - `state.json`, the term and vote: small, so it is rewritten whole each time, via a
//!   temporary file, fsync and rename, so that a crash leaves either the old or the new one.
//! - `log.bin`, an append-only list of records, one per `PersistEntries` action: a 12-byte
//!   header (payload length, a CRC-32 of those 4 length bytes, a CRC-32 of the payload; all
//!   little-endian u32) and a JSON payload `{"from_index": n, "entries": [...]}`. Replaying
//!   the records in order (truncate to `from_index - 1`, then append) rebuilds the log.
//!
//! A crash in the middle of an append can leave a torn last record: fewer than 12 header
//! bytes, or a payload that runs past the end of the file or fails its checksum where the
//! file ends. Such a record was never synced, so nothing was sent that depends on it, and
//! recovery ignores it. Any other bad record is corruption: recovery fails with an error that
//! names the file and the record's byte offset rather than guess. After recovery the log is
//! rewritten as one record, so the file does not grow across restarts.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use replica::{DurableState, Entry, NodeId};
use serde::{Deserialize, Serialize};

const STATE_FILE: &str = "state.json";
const LOG_FILE: &str = "log.bin";
const HEADER_BYTES: usize = 12;

/// Why the data directory could not be read or written.
#[derive(Debug)]
pub enum StorageError {
    /// An IO call failed.
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// A file holds something recovery cannot trust.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad record (0 for the state file).
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StorageError::Corrupt { path, offset, reason } => {
                write!(f, "{}: corrupt at byte offset {offset}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for StorageError {}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |source| StorageError::Io { path: path.to_owned(), source }
}

/// The state file's contents.
#[derive(Serialize, Deserialize)]
struct StateRecord {
    term: u64,
    voted_for: Option<NodeId>,
}

/// One log record's payload: a `PersistEntries` action.
#[derive(Serialize, Deserialize)]
struct EntriesRecord {
    from_index: u64,
    entries: Vec<Entry>,
}

/// An open data directory. Persist calls buffer or write; [`Store::sync`] makes everything
/// written so far durable.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    log: File,
    /// Term and vote not yet written to the state file.
    state_unsynced: Option<(u64, Option<NodeId>)>,
    /// Whether log records were written since the last fsync.
    log_unsynced: bool,
}

impl Store {
    /// Opens (creating if needed) the data directory and recovers what it holds.
    pub fn open(dir: &Path) -> Result<(Store, DurableState), StorageError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let state = read_state(&dir.join(STATE_FILE))?;
        let log_path = dir.join(LOG_FILE);
        let log = match fs::read(&log_path) {
            Ok(bytes) => replay(&log_path, &bytes)?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(io_error(&log_path)(error)),
        };
        // Compact: one record holding the whole log, swapped in atomically.
        let temp_path = dir.join("log.bin.tmp");
        let mut temp = File::create(&temp_path).map_err(io_error(&temp_path))?;
        if !log.is_empty() {
            let record = EntriesRecord { from_index: 1, entries: log.clone() };
            temp.write_all(&frame(&record)).map_err(io_error(&temp_path))?;
        }
        temp.sync_all().map_err(io_error(&temp_path))?;
        fs::rename(&temp_path, &log_path).map_err(io_error(&log_path))?;
        sync_dir(dir)?;
        let file = OpenOptions::new().append(true).open(&log_path).map_err(io_error(&log_path))?;
        let store =
            Store { dir: dir.to_owned(), log: file, state_unsynced: None, log_unsynced: false };
        let durable = DurableState { term: state.term, voted_for: state.voted_for, log };
        Ok((store, durable))
    }

    /// Records term and vote; written at the next [`Store::sync`] (only the latest counts).
    pub fn persist_state(&mut self, term: u64, voted_for: Option<NodeId>) {
        self.state_unsynced = Some((term, voted_for));
    }

    /// Appends a record that replaces the log from `from_index` on with `entries`.
    pub fn persist_entries(
        &mut self,
        from_index: u64,
        entries: &[Entry],
    ) -> Result<(), StorageError> {
        let record = EntriesRecord { from_index, entries: entries.to_vec() };
        let path = self.dir.join(LOG_FILE);
        self.log.write_all(&frame(&record)).map_err(io_error(&path))?;
        self.log_unsynced = true;
        Ok(())
    }

    /// Whether anything persisted since the last sync is not yet durable.
    pub fn is_unsynced(&self) -> bool {
        self.log_unsynced || self.state_unsynced.is_some()
    }

    /// Makes every persist call so far durable: fsyncs the log, rewrites the state file.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        if self.log_unsynced {
            let path = self.dir.join(LOG_FILE);
            self.log.sync_data().map_err(io_error(&path))?;
            self.log_unsynced = false;
        }
        if let Some((term, voted_for)) = self.state_unsynced.take() {
            let temp_path = self.dir.join("state.json.tmp");
            let bytes = serde_json::to_vec(&StateRecord { term, voted_for })
                .expect("the state record always serializes");
            let mut temp = File::create(&temp_path).map_err(io_error(&temp_path))?;
            temp.write_all(&bytes).map_err(io_error(&temp_path))?;
            temp.sync_all().map_err(io_error(&temp_path))?;
            let path = self.dir.join(STATE_FILE);
            fs::rename(&temp_path, &path).map_err(io_error(&path))?;
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

/// fsyncs a directory so that a rename in it survives a crash.
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|file| file.sync_all()).map_err(io_error(dir))
}

fn read_state(path: &Path) -> Result<StateRecord, StorageError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(StateRecord { term: 0, voted_for: None });
        }
        Err(error) => return Err(io_error(path)(error)),
    };
    // Written by rename, so it is whole: a parse failure is corruption, not a torn write.
    serde_json::from_slice(&bytes).map_err(|error| StorageError::Corrupt {
        path: path.to_owned(),
        offset: 0,
        reason: error.to_string(),
    })
}

/// One record as bytes: header, then payload.
fn frame(record: &EntriesRecord) -> Vec<u8> {
    let payload = serde_json::to_vec(record).expect("log records always serialize");
    let length = (payload.len() as u32).to_le_bytes();
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&length);
    bytes.extend_from_slice(&crc32(&length).to_le_bytes());
    bytes.extend_from_slice(&crc32(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    bytes
}

/// Rebuilds the log from the records in `bytes` (the contents of `path`).
fn replay(path: &Path, bytes: &[u8]) -> Result<Vec<Entry>, StorageError> {
    let corrupt = |offset: usize, reason: String| StorageError::Corrupt {
        path: path.to_owned(),
        offset: offset as u64,
        reason,
    };
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let mut log: Vec<Entry> = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        if bytes.len() - offset < HEADER_BYTES {
            break; // A torn header: the last append never completed.
        }
        let length = word(offset);
        if crc32(&length.to_le_bytes()) != word(offset + 4) {
            return Err(corrupt(offset, "record header fails its checksum".to_owned()));
        }
        let start = offset + HEADER_BYTES;
        let end = start.saturating_add(length as usize);
        if end > bytes.len() {
            break; // A torn payload.
        }
        let payload = &bytes[start..end];
        if crc32(payload) != word(offset + 8) {
            if end == bytes.len() {
                break; // The last record, torn inside its payload.
            }
            return Err(corrupt(offset, "record payload fails its checksum".to_owned()));
        }
        let record: EntriesRecord = serde_json::from_slice(payload)
            .map_err(|error| corrupt(offset, format!("record payload: {error}")))?;
        let next_index = log.len() as u64 + 1;
        if record.from_index == 0 || record.from_index > next_index {
            let reason = format!(
                "record starts at index {} but the log so far ends at {}",
                record.from_index,
                next_index - 1
            );
            return Err(corrupt(offset, reason));
        }
        log.truncate(record.from_index as usize - 1);
        log.extend(record.entries);
        offset = end;
    }
    Ok(log)
}

/// CRC-32 (the IEEE polynomial, reflected), computed bit by bit from a 256-entry table.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut bit = 0;
            while bit < 8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                bit += 1;
            }
            table[n] = c;
            n += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &byte in bytes {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use replica::Command;

    fn entry(term: u64) -> Entry {
        Entry { term, command: Command::Noop }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kvnode-storage-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn state_and_log_survive_a_reopen_including_truncations() {
        let dir = temp_dir("reopen");
        let (mut store, durable) = Store::open(&dir).unwrap();
        assert_eq!(durable, DurableState::default());
        store.persist_state(3, Some(NodeId(1)));
        store.persist_entries(1, &[entry(1), entry(1), entry(2)]).unwrap();
        store.persist_entries(3, &[entry(3)]).unwrap();
        store.sync().unwrap();
        drop(store);
        let (_, durable) = Store::open(&dir).unwrap();
        assert_eq!(durable.term, 3);
        assert_eq!(durable.voted_for, Some(NodeId(1)));
        assert_eq!(durable.log, vec![entry(1), entry(1), entry(3)]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_tail_is_ignored_and_a_corrupt_middle_record_is_an_error() {
        let dir = temp_dir("torn");
        let (mut store, _) = Store::open(&dir).unwrap();
        store.persist_entries(1, &[entry(1)]).unwrap();
        store.persist_entries(2, &[entry(2)]).unwrap();
        store.sync().unwrap();
        drop(store);
        let path = dir.join(LOG_FILE);
        let whole = fs::read(&path).unwrap();
        // Every cut inside the second record leaves the first one.
        let first_end = HEADER_BYTES + u32::from_le_bytes(whole[0..4].try_into().unwrap()) as usize;
        for cut in first_end..whole.len() {
            assert_eq!(replay(&path, &whole[..cut]).unwrap(), vec![entry(1)], "cut at {cut}");
        }
        // A flipped byte in the first record's payload, with a record after it, is corruption.
        let mut flipped = whole.clone();
        flipped[HEADER_BYTES + 2] ^= 0x20;
        let error = replay(&path, &flipped).unwrap_err();
        assert!(error.to_string().contains("log.bin: corrupt at byte offset 0"), "{error}");
        // A flipped length in a header is caught by the header checksum.
        let mut flipped = whole.clone();
        flipped[first_end] ^= 0x01;
        let error = replay(&path, &flipped).unwrap_err();
        assert!(error.to_string().contains(&format!("offset {first_end}")), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}

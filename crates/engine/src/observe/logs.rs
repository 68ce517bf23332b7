//! Container logs in Docker's json-file format: one JSON object a line,
//! `{"log":"text\n","stream":"stdout","time":"2026-11-22T14:00:00.123456789Z"}`, stdout and
//! stderr kept apart. Rotated by size (`max-size`, `max-file`): `<id>-json.log`, `.1`, `.2`...

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};
use crate::options::LogOptions;

/// A partial line is written out once it reaches this size, as Docker does.
const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogEntry {
    pub log: String,
    pub stream: String,
    pub time: String,
}

pub fn log_path(container_dir: &Path, id: &str) -> PathBuf {
    container_dir.join(format!("{id}-json.log"))
}

/// Writes a container's output as it comes, line by line.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    options: LogOptions,
    /// Unfinished lines of stdout and stderr.
    pending: [Vec<u8>; 2],
}

#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl LogWriter {
    pub fn open(path: &Path, options: LogOptions) -> Result<LogWriter> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .ctx("opening the log", path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            options,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Takes output as it arrives; complete lines are written at once.
    pub fn write(&mut self, stream: Stream, mut data: &[u8]) -> Result<()> {
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.pending[stream as usize]);
            line.extend_from_slice(&data[..=nl]);
            self.entry(stream, &line)?;
            data = &data[nl + 1..];
        }
        self.pending[stream as usize].extend_from_slice(data);
        if self.pending[stream as usize].len() >= MAX_LINE {
            let line = std::mem::take(&mut self.pending[stream as usize]);
            self.entry(stream, &line)?;
        }
        Ok(())
    }

    /// Writes out unfinished lines (the container has exited).
    pub fn flush(&mut self) -> Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let line = std::mem::take(&mut self.pending[stream as usize]);
            if !line.is_empty() {
                self.entry(stream, &line)?;
            }
        }
        Ok(())
    }

    fn entry(&mut self, stream: Stream, line: &[u8]) -> Result<()> {
        let entry = LogEntry {
            log: String::from_utf8_lossy(line).into_owned(),
            stream: stream.name().into(),
            time: humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
        };
        let mut bytes = serde_json::to_vec(&entry).unwrap_or_default();
        bytes.push(b'\n');
        if let Some(max) = self.options.max_size
            && self.size > 0
            && self.size + bytes.len() as u64 > max
        {
            self.rotate()?;
        }
        self.file
            .write_all(&bytes)
            .ctx("writing the log", &self.path)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> Result<()> {
        let keep = self.options.max_file.max(1);
        if keep == 1 {
            // One file only: start it again.
            self.file.set_len(0).ctx("truncating the log", &self.path)?;
        } else {
            for i in (1..keep - 1).rev() {
                let _ = fs::rename(rotated(&self.path, i), rotated(&self.path, i + 1));
            }
            fs::rename(&self.path, rotated(&self.path, 1)).ctx("rotating the log", &self.path)?;
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&self.path)
                .ctx("opening the log", &self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Every entry of the log, oldest first (rotated files included).
pub fn read_all(path: &Path) -> Vec<LogEntry> {
    let mut files: Vec<PathBuf> = (1..100)
        .map(|n| rotated(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    files.push(path.to_path_buf());
    let mut out = Vec::new();
    for f in files {
        if let Ok(file) = File::open(&f) {
            out.extend(read_entries(BufReader::new(file)));
        }
    }
    out
}

/// Reads whole entries from `reader`; a line still being written is left for later.
pub fn read_entries<R: BufRead>(reader: R) -> Vec<LogEntry> {
    reader
        .split(b'\n')
        .map_while(|l| l.ok())
        .filter_map(|l| serde_json::from_slice(&l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_streams_and_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c-json.log");
        let mut w = LogWriter::open(&p, LogOptions::default()).unwrap();
        w.write(Stream::Stdout, b"hel").unwrap();
        w.write(Stream::Stderr, b"oops\n").unwrap();
        w.write(Stream::Stdout, b"lo\nworld").unwrap();
        w.flush().unwrap();
        let e = read_all(&p);
        let got: Vec<(&str, &str)> = e
            .iter()
            .map(|e| (e.stream.as_str(), e.log.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("stderr", "oops\n"),
                ("stdout", "hello\n"),
                ("stdout", "world")
            ]
        );
        assert!(e[0].time.ends_with('Z'));
    }

    #[test]
    fn rotation_keeps_max_file_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c-json.log");
        let mut w = LogWriter::open(
            &p,
            LogOptions {
                max_size: Some(300),
                max_file: 3,
            },
        )
        .unwrap();
        for i in 0..50 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                .unwrap();
        }
        assert!(rotated(&p, 1).exists() && rotated(&p, 2).exists() && !rotated(&p, 3).exists());
        for f in [p.clone(), rotated(&p, 1), rotated(&p, 2)] {
            assert!(fs::metadata(&f).unwrap().len() <= 300);
        }
        let all = read_all(&p);
        assert_eq!(all.last().unwrap().log, "line 49\n");
        // Oldest first, and in order.
        let nums: Vec<u32> = all
            .iter()
            .map(|e| e.log[5..e.log.len() - 1].parse().unwrap())
            .collect();
        assert!(nums.windows(2).all(|w| w[1] == w[0] + 1), "{nums:?}");
    }
}

//! The stack's output on one terminal: every line prefixed with the part that wrote it, and each
//! part's last lines kept to explain why it stopped.

use std::{
    collections::VecDeque,
    io::{self, IsTerminal, Write},
    sync::{Arc, Mutex, PoisonError},
};

use tracing_subscriber::fmt::MakeWriter;

/// Lines kept per part.
const TAIL_LINES: usize = 20;
/// Longest line kept, in characters: enough for any log line, bounded whatever a part prints.
const MAX_LINE_CHARS: usize = 2000;

/// Prints `line` as output of the part `name`. A closed stdout is ignored: the stack keeps
/// running and its parts' last lines are still reported on stderr.
pub fn print(name: &str, line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{name:>8} | {line}");
}

/// Whether output may carry colours: only on a terminal, never in a log file or pipe.
pub fn colors() -> bool {
    io::stdout().is_terminal()
}

/// The last [`TAIL_LINES`] lines of a part, shared with the tasks that read its output.
#[derive(Debug, Clone, Default)]
pub struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    pub fn push(&self, line: &str) {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line.chars().take(MAX_LINE_CHARS).collect());
    }

    pub fn lines(&self) -> Vec<String> {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().cloned().collect()
    }
}

/// A `tracing` writer for the part that runs in this process (dev-identity): each event becomes
/// lines of that part's output, like a child's.
#[derive(Debug)]
pub struct PartLog(pub &'static str);

impl<'a> MakeWriter<'a> for PartLog {
    type Writer = EventLines;

    fn make_writer(&'a self) -> EventLines {
        EventLines {
            name: self.0,
            text: Vec::new(),
        }
    }
}

/// One event's text, printed when the event is complete (the writer is dropped).
#[derive(Debug)]
pub struct EventLines {
    name: &'static str,
    text: Vec<u8>,
}

impl Write for EventLines {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EventLines {
    fn drop(&mut self) {
        for line in String::from_utf8_lossy(&self.text).lines() {
            print(self.name, line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines_cut_to_length() {
        let tail = Tail::default();
        for i in 0..TAIL_LINES + 5 {
            tail.push(&format!("line {i}"));
        }
        let lines = tail.lines();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines[0], "line 5");
        assert_eq!(lines[TAIL_LINES - 1], format!("line {}", TAIL_LINES + 4));

        tail.push(&"x".repeat(MAX_LINE_CHARS * 2));
        assert_eq!(
            tail.lines().last().map(|line| line.chars().count()),
            Some(MAX_LINE_CHARS)
        );
    }
}

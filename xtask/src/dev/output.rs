//! The stack's output on one terminal: every line prefixed with the part that wrote it, and each
//! part's last lines kept to explain why it stopped.

use std::{
    collections::VecDeque,
    io::{self, IsTerminal, Write},
    sync::{Arc, Mutex, PoisonError},
};

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

/// Which lines of a part are printed. Trunk's are filtered: cargo's progress lines (unless
/// `--verbose`; they are counted instead) and its list of listen addresses, since the stack's
/// summary is the one place that says where to go. Every line is still kept in the part's tail.
#[derive(Debug, Clone, Default)]
pub struct Shown(Arc<Mutex<Filter>>);

#[derive(Debug, Default)]
struct Filter {
    trunk: bool,
    verbose: bool,
    /// Inside trunk's "server listening at:" list.
    listing: bool,
    compiled: usize,
}

impl Shown {
    /// Every line.
    pub fn all() -> Self {
        Shown::default()
    }

    pub fn trunk(verbose: bool) -> Self {
        Shown(Arc::new(Mutex::new(Filter {
            trunk: true,
            verbose,
            ..Filter::default()
        })))
    }

    /// Whether `line` is printed.
    pub fn show(&self, line: &str) -> bool {
        let mut filter = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !filter.trunk {
            return true;
        }
        if line.contains("server listening at:") {
            filter.listing = true;
            return false;
        }
        if filter.listing {
            if line.contains("://") {
                return false;
            }
            filter.listing = false;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("Compiling ") || trimmed.starts_with("Checking ") {
            filter.compiled += 1;
            return filter.verbose;
        }
        true
    }

    /// Crates compiled so far (trunk's cargo).
    pub fn compiled(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .compiled
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

    #[test]
    fn trunks_listen_addresses_and_compile_lines_are_not_printed() {
        let trunk = Shown::trunk(false);
        let printed: Vec<&str> = [
            "2026-12-04T16:00:00Z  INFO Starting trunk 0.21.14",
            "   Compiling serde v1.0.228",
            "   Compiling frontend v0.1.0 (/repo/frontend)",
            "2026-12-04T16:03:00Z  INFO applying new distribution",
            "2026-12-04T16:03:00Z  INFO server listening at:",
            "2026-12-04T16:03:00Z  INFO     http://127.0.0.1:8080/",
            "2026-12-04T16:03:00Z  INFO     http://localhost.:8080/",
            "2026-12-04T16:03:01Z  INFO 🏠 http://[::1]:8080/",
            "2026-12-04T16:05:00Z  INFO change detected, rebuilding",
        ]
        .into_iter()
        .filter(|line| trunk.show(line))
        .collect();
        assert_eq!(
            printed,
            [
                "2026-12-04T16:00:00Z  INFO Starting trunk 0.21.14",
                "2026-12-04T16:03:00Z  INFO applying new distribution",
                "2026-12-04T16:05:00Z  INFO change detected, rebuilding",
            ]
        );
        assert_eq!(trunk.compiled(), 2);
        assert!(Shown::trunk(true).show("   Compiling serde v1.0.228"));
        assert!(Shown::all().show("2026-12-04T16:03:00Z  INFO server listening at:"));
    }
}

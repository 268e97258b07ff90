//! The summary: medians over the rounds, each store's throughput as a ratio of the in-memory
//! store's, and the targets of SQLite (the default store).

use std::time::Duration;

use crate::{api::Store, wrk};

/// Who is measured: a store, on the API under test or on a binary given by `--compare`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Contender {
    pub store: Store,
    /// The label of the `--compare` binary; `None` for the API under test.
    pub compared: Option<String>,
}

impl Contender {
    pub fn label(&self) -> String {
        match &self.compared {
            None => self.store.name().to_owned(),
            Some(label) => format!("{} ({label})", self.store.name()),
        }
    }
}

/// One load of one contender in one round.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub contender: Contender,
    /// `GET /api/tasks` or `POST /api/tasks`.
    pub load: String,
    pub wrk: wrk::Report,
    pub cpu_per_request: Duration,
    pub peak_rss_kib: u64,
}

/// The medians of one contender's load over the rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub contender: Contender,
    pub load: String,
    pub rounds: usize,
    pub requests_per_sec: f64,
    /// Of the in-memory store of the API under test, same load.
    pub ratio: Option<f64>,
    pub p99: Duration,
    pub cpu_per_request: Duration,
    pub peak_rss_kib: u64,
    pub errors: bool,
}

/// SQLite's targets on the reference machine, as ratios of the in-memory store.
const TARGETS: [(&str, f64); 2] = [("GET /api/tasks", 0.7), ("POST /api/tasks", 0.5)];
const P99_TARGET: Duration = Duration::from_millis(10);

fn median<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values[values.len() / 2]
}

/// One row per contender and load, in the order of `contenders` then `loads`.
pub fn summarize(
    measurements: &[Measurement],
    contenders: &[Contender],
    loads: &[String],
) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for contender in contenders {
        for load in loads {
            let of: Vec<&Measurement> = measurements
                .iter()
                .filter(|m| &m.contender == contender && &m.load == load)
                .collect();
            if of.is_empty() {
                continue;
            }
            rows.push(Row {
                contender: contender.clone(),
                load: load.clone(),
                rounds: of.len(),
                requests_per_sec: median(of.iter().map(|m| m.wrk.requests_per_sec).collect()),
                ratio: None,
                p99: median(of.iter().map(|m| m.wrk.p99).collect()),
                cpu_per_request: median(of.iter().map(|m| m.cpu_per_request).collect()),
                peak_rss_kib: median(of.iter().map(|m| m.peak_rss_kib).collect()),
                errors: of.iter().any(|m| m.wrk.errors.is_some()),
            });
        }
    }
    let memory: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.contender.store == Store::Memory && r.contender.compared.is_none())
        .map(|r| (r.load.clone(), r.requests_per_sec))
        .collect();
    for row in &mut rows {
        row.ratio = memory
            .iter()
            .find(|(load, _)| *load == row.load)
            .map(|(_, reference)| row.requests_per_sec / reference);
    }
    rows
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut text = String::from(
        "| store | load | req/s (median) | × memory | p99 | API CPU/request | peak RSS |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        text.push_str(&format!(
            "| {} | {} | {}{} | {} | {:.2} ms | {:.0} µs | {:.1} MiB |\n",
            row.contender.label(),
            row.load,
            thousands(row.requests_per_sec),
            if row.errors { " (errors)" } else { "" },
            row.ratio.map_or("–".into(), |r| format!("{r:.2}×")),
            row.p99.as_secs_f64() * 1e3,
            row.cpu_per_request.as_secs_f64() * 1e6,
            row.peak_rss_kib as f64 / 1024.0,
        ));
    }
    text
}

/// `12,345`.
fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Whether SQLite (on the API under test) met each target, one line each.
pub fn targets(rows: &[Row]) -> Vec<String> {
    let sqlite = |load: &str| {
        rows.iter().find(|r| {
            r.contender.store == Store::Sqlite && r.contender.compared.is_none() && r.load == load
        })
    };
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let mut lines = Vec::new();
    for (load, target) in TARGETS {
        let Some(row) = sqlite(load) else { continue };
        if let Some(ratio) = row.ratio {
            lines.push(format!(
                "SQLite {load}: {ratio:.2}× the in-memory store's requests/s (target ≥ {target:.1}×): {}",
                verdict(ratio >= target)
            ));
        }
        lines.push(format!(
            "SQLite {load}: p99 {:.2} ms (target ≤ {} ms): {}",
            row.p99.as_secs_f64() * 1e3,
            P99_TARGET.as_millis(),
            verdict(row.p99 <= P99_TARGET)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(store: Store, load: &str, rps: f64, p99_ms: u64) -> Measurement {
        Measurement {
            contender: Contender {
                store,
                compared: None,
            },
            load: load.into(),
            wrk: wrk::Report {
                requests_per_sec: rps,
                requests: 1000,
                p99: Duration::from_millis(p99_ms),
                errors: None,
            },
            cpu_per_request: Duration::from_micros(40),
            peak_rss_kib: 10240,
        }
    }

    #[test]
    fn medians_and_ratios_of_the_in_memory_store() {
        let get = "GET /api/tasks".to_owned();
        let post = "POST /api/tasks".to_owned();
        let measurements = [
            measured(Store::Memory, &get, 40_000.0, 2),
            measured(Store::Sqlite, &get, 30_000.0, 3),
            measured(Store::Memory, &get, 30_000.0, 2),
            measured(Store::Sqlite, &get, 20_000.0, 30),
            measured(Store::Memory, &get, 35_000.0, 2),
            measured(Store::Sqlite, &get, 28_000.0, 4),
            measured(Store::Memory, &post, 30_000.0, 2),
            measured(Store::Sqlite, &post, 12_000.0, 5),
        ];
        let contenders = [Store::Memory, Store::Sqlite].map(|store| Contender {
            store,
            compared: None,
        });
        let rows = summarize(&measurements, &contenders, &[get.clone(), post.clone()]);
        let sqlite_get = &rows[2];
        assert_eq!(
            (sqlite_get.load.as_str(), sqlite_get.rounds),
            (get.as_str(), 3)
        );
        assert!((sqlite_get.requests_per_sec - 28_000.0).abs() < 1e-9);
        assert!((sqlite_get.ratio.expect("ratio") - 0.8).abs() < 1e-9);
        assert_eq!(sqlite_get.p99, Duration::from_millis(4));

        let verdicts = targets(&rows);
        assert_eq!(verdicts.len(), 4);
        assert!(
            verdicts[0].ends_with("(target ≥ 0.7×): met"),
            "{}",
            verdicts[0]
        );
        assert!(
            verdicts[2].contains("0.40×") && verdicts[2].ends_with("MISSED"),
            "{}",
            verdicts[2]
        );
        assert!(table(&rows).contains(
            "| SQLite | POST /api/tasks | 12,000 | 0.40× | 5.00 ms | 40 µs | 10.0 MiB |"
        ));
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234.0), "1,234");
        assert_eq!(thousands(41_179.0), "41,179");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}

//! wrk: the load generator, and what its `--latency` report says.

use std::{path::Path, process::Command, time::Duration};

/// What one wrk load sends.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    Get(&'a str),
    /// `POST /api/tasks`, made by this wrk Lua script.
    Post(&'a Path),
}

/// wrk's request for the POST load (wrk runs it; see `wrk --help`, "-s").
pub const POST_SCRIPT: &str = r#"wrk.method = "POST"
wrk.body = '{"title":"benchmark task"}'
wrk.headers["Content-Type"] = "application/json"
"#;

/// Threads and connections of every load (the issue's reference load).
pub const THREADS: u32 = 2;
pub const CONNECTIONS: u32 = 32;

/// What one load measured from the client's side.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub requests_per_sec: f64,
    pub requests: u64,
    pub p99: Duration,
    /// Non-2xx answers and socket errors, if any.
    pub errors: Option<String>,
}

/// Runs wrk against `base` (`http://host:port`) for `seconds`.
pub fn run(base: &str, request: Request<'_>, token: &str, seconds: u32) -> Result<Report, String> {
    let mut wrk = Command::new("wrk");
    wrk.args([
        &format!("-t{THREADS}"),
        &format!("-c{CONNECTIONS}"),
        &format!("-d{seconds}s"),
        "--latency",
    ])
    .args(["-H", &format!("Authorization: Bearer {token}")]);
    match request {
        Request::Get(path) => wrk.arg(format!("{base}{path}")),
        Request::Post(script) => wrk.arg("-s").arg(script).arg(format!("{base}/api/tasks")),
    };
    let output = wrk.output().map_err(|e| format!("wrk: {e}"))?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("wrk failed: {report}"));
    }
    parse(&report)
}

/// Requests/s, the request count, the 99th percentile and any non-2xx or socket errors.
pub fn parse(report: &str) -> Result<Report, String> {
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
    };
    let requests_per_sec = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's report:\n{report}"))?;
    let requests = report
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.trim().parse().ok())
        .ok_or_else(|| format!("no request count in wrk's report:\n{report}"))?;
    let p99 = field("99%")
        .and_then(latency)
        .ok_or_else(|| format!("no 99% latency in wrk's report:\n{report}"))?;
    let errors = [field("Non-2xx or 3xx responses:"), field("Socket errors:")]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .reduce(|a, b| format!("{a}; {b}"));
    Ok(Report {
        requests_per_sec,
        requests,
        p99,
        errors,
    })
}

/// A wrk latency such as `850.00us`, `2.50ms`, `1.20s` or `1.05m`.
fn latency(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:1/api/tasks
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   800.00us  300.00us  10.00ms   90.00%
  Latency Distribution
     50%  700.00us
     75%  900.00us
     90%    1.20ms
     99%    2.50ms
  400000 requests in 10.00s, 100.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  40000.00
Transfer/sec:     10.00MB
";

    #[test]
    fn reads_wrks_report() {
        let report = parse(REPORT).expect("parse");
        assert!((report.requests_per_sec - 40_000.0).abs() < f64::EPSILON);
        assert_eq!(report.requests, 400_000);
        assert_eq!(report.p99, Duration::from_micros(2500));
        assert_eq!(report.errors.as_deref(), Some("12"));
        assert!(parse("garbage").is_err());
    }

    #[test]
    fn reads_latencies_in_every_unit() {
        assert_eq!(latency("850.00us"), Some(Duration::from_micros(850)));
        assert_eq!(latency("1.50s"), Some(Duration::from_millis(1500)));
        assert_eq!(latency("2.00m"), Some(Duration::from_secs(120)));
        assert_eq!(latency("3.00h"), None);
        assert_eq!(latency("ms"), None);
    }
}

//! What else the machine was doing: figures from a shared machine mean little without it.

use std::{
    collections::HashMap,
    process::Command,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

/// The 1-minute load average (`/proc/loadavg`).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// `N × model` from `/proc/cpuinfo`.
pub fn processors() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let models: Vec<&str> = info
        .lines()
        .filter_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']))
        .collect();
    format!(
        "{} × {}",
        models.len(),
        models.first().copied().unwrap_or("unknown CPU")
    )
}

/// User + system CPU time of process `pid` so far (`/proc/<pid>/stat` fields 14 and 15).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    Some(stat(pid)?.cpu)
}

#[derive(Debug, Clone, PartialEq)]
struct Stat {
    name: String,
    parent: u32,
    /// When the process started, in clock ticks after boot: a pid with another start time is
    /// another process (its name alone may change, as kernel workers' names do).
    started: u64,
    cpu: Duration,
}

fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The command name, parent, start time and CPU time of one `/proc/<pid>/stat` line.
fn parse_stat(line: &str) -> Option<Stat> {
    // The command name is in parentheses and may contain spaces.
    let (head, rest) = line.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let parent = fields.get(1)?.parse().ok()?;
    let started = fields.get(19)?.parse().ok()?;
    let ticks: u64 = [11, 12]
        .iter()
        .map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum::<Option<u64>>()?;
    Some(Stat {
        name,
        parent,
        started,
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second()),
    })
}

/// `getconf CLK_TCK`, almost always 100.
fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Every process's CPU time, by pid.
fn snapshot() -> HashMap<u32, Stat> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

/// CPU time other processes used between two snapshots, by command name; this process and
/// its children (the API, wrk) are left out. A process seen for the first time counts from
/// when it started if it started after `earlier`, which a sampler cannot tell apart from an
/// older one it missed: sampled often, the error is small.
fn others_between(
    earlier: &HashMap<u32, Stat>,
    later: &HashMap<u32, Stat>,
    ours: u32,
    used: &mut HashMap<String, Duration>,
) {
    for (pid, now) in later {
        if *pid == ours || now.parent == ours {
            continue;
        }
        let before = earlier
            .get(pid)
            .filter(|old| old.started == now.started)
            .map_or(Duration::ZERO, |old| old.cpu);
        *used.entry(now.name.clone()).or_default() += now.cpu.saturating_sub(before);
    }
}

/// Samples every process's CPU time in the background while the benchmark runs.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<HashMap<String, Duration>>,
}

impl Sampler {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let ours = std::process::id();
            let mut used = HashMap::new();
            let mut earlier = snapshot();
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                let later = snapshot();
                others_between(&earlier, &later, ours, &mut used);
                earlier = later;
            }
            used
        });
        Self { stop, thread }
    }

    /// The CPU time other processes used meanwhile, by command name, largest first.
    pub fn stop(self) -> Vec<(String, Duration)> {
        self.stop.store(true, Ordering::Relaxed);
        let mut used: Vec<(String, Duration)> = self
            .thread
            .join()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, cpu)| *cpu >= Duration::from_millis(10))
            .collect();
        used.sort_by_key(|(_, cpu)| std::cmp::Reverse(*cpu));
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name_parent_and_cpu_of_a_stat_line() {
        let line =
            "1234 (tokio rt (x)) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 4242 9";
        let stat = parse_stat(line).expect("parse");
        assert_eq!(
            (stat.name.as_str(), stat.parent, stat.started),
            ("tokio rt (x)", 77, 4242)
        );
        assert_eq!(
            stat.cpu,
            Duration::from_secs_f64(300.0 / clock_ticks_per_second())
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn others_are_what_other_processes_used_in_between() {
        let second = Duration::from_secs(1);
        let process = |name: &str, parent, started, cpu| Stat {
            name: name.into(),
            parent,
            started,
            cpu,
        };
        let earlier = HashMap::from([
            (1, process("rustc", 1, 100, second)),
            (2, process("backend", 10, 100, second)),
            (5, process("kworker/0:1-events", 2, 5, 60 * second)),
            (6, process("rustc", 1, 100, 30 * second)),
        ]);
        let later = HashMap::from([
            (1, process("rustc", 1, 100, 4 * second)),
            (2, process("backend", 10, 100, 9 * second)),
            (3, process("rustc", 1, 200, 2 * second)),
            // Renamed, the same process: only its new CPU time counts.
            (5, process("kworker/0:1-mm", 2, 5, 61 * second)),
            // Another process with a pid used before: all of its CPU time counts.
            (6, process("node", 1, 300, 3 * second)),
            (10, process("bench", 1, 100, 5 * second)),
        ]);
        let mut used = HashMap::new();
        others_between(&earlier, &later, 10, &mut used);
        assert_eq!(
            used,
            HashMap::from([
                ("rustc".to_owned(), 5 * second),
                ("kworker/0:1-mm".to_owned(), second),
                ("node".to_owned(), 3 * second),
            ])
        );
    }
}

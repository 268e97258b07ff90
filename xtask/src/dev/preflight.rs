//! What the local stack needs that no install provides, checked before anything else: its ports.
//! Each problem is one line saying what is wrong and how to fix it. (The tools come from
//! `crate::tools`, which installs what is missing.)

use std::net::TcpListener;

use super::wiring::Ports;

/// Every busy port, or `Ok` when the stack can listen. `spa`: whether the SPA's port is needed.
pub fn check(ports: &Ports, spa: bool) -> Result<(), String> {
    let problems: Vec<String> = ports
        .listening(spa)
        .into_iter()
        .filter_map(|(port, what, flag)| port_in_use(port, what, flag))
        .collect();
    refusal(&problems).map_or(Ok(()), Err)
}

/// The message for problems that stop the stack before it starts: one line, or a list.
pub fn refusal(problems: &[String]) -> Option<String> {
    match problems {
        [] => None,
        [problem] => Some(format!("cannot start the local stack: {problem}")),
        _ => Some(format!(
            "cannot start the local stack:\n  - {}",
            problems.join("\n  - ")
        )),
    }
}

/// A problem if something already listens on `port` on loopback, where the part would listen.
fn port_in_use(port: u16, what: &str, flag: &str) -> Option<String> {
    TcpListener::bind(("127.0.0.1", port)).err().map(|err| {
        format!(
            "port {port} ({what}) is not free ({err}): stop what listens there \
             (`ss -ltnp 'sport = :{port}'` names it) or choose another with {flag} <PORT>"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_port_is_named_with_the_flag_that_moves_the_part() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = taken.local_addr().expect("address").port();
        let problem = port_in_use(port, "the API", "--api-port").expect("the port is taken");
        assert!(
            problem.starts_with(&format!("port {port} (the API) is not free (")),
            "{problem}"
        );
        assert!(
            problem.ends_with("or choose another with --api-port <PORT>"),
            "{problem}"
        );
        drop(taken);
        assert_eq!(port_in_use(port, "the API", "--api-port"), None);
    }

    #[test]
    fn every_busy_port_is_reported_at_once() {
        let taken: Vec<TcpListener> = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
            .collect();
        let port = |i: usize| taken[i].local_addr().expect("address").port();
        let ports = Ports::new(port(0), port(1), port(2)).expect("distinct");
        let problems = check(&ports, false).expect_err("API and provider ports are taken");
        assert!(problems.starts_with("cannot start the local stack:\n  - "));
        assert!(problems.contains("(the API)") && problems.contains("(dev-identity)"));
        assert!(
            !problems.contains("(the SPA"),
            "--no-spa needs no SPA port: {problems}"
        );
    }
}

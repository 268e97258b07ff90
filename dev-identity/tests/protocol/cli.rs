//! The binary: flags, the users file, the banner. Run as a child process, stopped by the test.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

const BIN: &str = env!("CARGO_BIN_EXE_dev-identity");

/// Runs the binary to completion (it must exit on its own: bad input), with the `DEV_IDENTITY_*`
/// variables of the environment cleared so only the given arguments count.
fn run_failing(args: &[&str]) -> (i32, String) {
    let output = command(args).output().expect("runs");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    (output.status.code().expect("exit code"), stderr)
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("DEV_IDENTITY_") {
            command.env_remove(name);
        }
    }
    command
}

fn users_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dev-identity-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write users file");
    path
}

fn assert_one_line_error(stderr: &str, expected: &str) {
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(expected), "{expected:?} in {stderr}");
}

#[test]
fn bad_flags_fail_with_one_line_naming_the_flag() {
    for (args, expected) in [
        (&["--port", "http"][..], "--port"),
        (&["--access-token-version", "3"], "--access-token-version"),
        (
            &["--access-token-lifetime-secs", "0"],
            "--access-token-lifetime-secs",
        ),
        (
            &["--redirect-uri", "http://evil.example/"],
            "must use https",
        ),
        (&["--tenant-id", "contoso"], "--tenant-id"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--public-url", "http://proxy.example/"], "must use https"),
        (
            &["--public-url", "https://proxy.example/prefix"],
            "must be an origin only",
        ),
        (&["--public-url", "proxy.example"], "--public-url"),
        (
            &["--public-client-redirect-uri", "myapp://auth"],
            "--public-client-redirect-uri",
        ),
    ] {
        let (code, stderr) = run_failing(args);
        assert_eq!(code, 2, "{args:?}");
        assert_one_line_error(&stderr, expected);
    }
}

#[test]
fn users_file_errors_name_the_file_and_the_field() {
    let cases = [
        (
            "role.toml",
            "[[users]]\nname = \"a\"\nusername = \"a@x.test\"\ndisplay_name = \"A\"\nroles = [\"Admn\"]\n",
            "users[0].roles: unknown role \"Admn\"",
        ),
        (
            "dup.json",
            r#"{"users": [{"name": "a", "username": "a@x.test", "display_name": "A"},
                          {"name": "b", "username": "A@x.test", "display_name": "B"}]}"#,
            "users[1].username: \"A@x.test\" is used twice",
        ),
        (
            "typo.toml",
            "[[users]]\nname = \"a\"\nusername = \"a@x.test\"\ndisplayname = \"A\"\n",
            "line 4: unknown field `displayname`",
        ),
        (
            "oid.toml",
            "[[users]]\nname = \"a\"\nusername = \"a@x.test\"\ndisplay_name = \"A\"\noid = \"42\"\n",
            "users[0].oid: \"42\" is not a GUID",
        ),
        (
            "name.toml",
            "[[users]]\nname = \"Bad Name\"\nusername = \"a@x.test\"\ndisplay_name = \"A\"\n",
            "users[0].name:",
        ),
        (
            "empty.json",
            r#"{"users": []}"#,
            "users: list between 1 and 100 users",
        ),
        ("users.yaml", "users: []", "must end in .toml or .json"),
    ];
    for (name, text, expected) in cases {
        let path = users_file(name, text);
        let (code, stderr) = run_failing(&["--users", path.to_str().expect("utf-8 path")]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_one_line_error(&stderr, expected);
        assert!(stderr.contains(name), "the file is named: {stderr}");
        std::fs::remove_file(path).expect("clean up");
    }
    let (code, stderr) = run_failing(&["--users", "/nonexistent/users.toml"]);
    assert_eq!(code, 2);
    assert_one_line_error(&stderr, "cannot read users file /nonexistent/users.toml");
}

/// Kills the child on drop, so a failing assertion does not leave it running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and reads its banner, up to its last line ("Press Ctrl-C"), within 30 s.
fn start(mut command: Command) -> (Running, String) {
    let mut child = command
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let child = Running(child);

    // Read the banner on a thread, so the wait for it is bounded.
    let (lines_tx, lines_rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    while !banner
        .last()
        .is_some_and(|line: &String| line.contains("Ctrl-C"))
    {
        banner.push(
            lines_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the banner within 30 s"),
        );
    }
    (child, banner.join("\n"))
}

#[tokio::test]
async fn the_binary_warns_it_is_for_development_serves_on_loopback_and_stops_on_sigterm() {
    let path = users_file(
        "banner.toml",
        "[[users]]\nname = \"ops\"\nusername = \"ops@x.test\"\ndisplay_name = \"Ops\"\nroles = [\"Admin\"]\n",
    );
    let mut command = command(&["--port", "0", "--users", path.to_str().expect("utf-8")]);
    command.env("DEV_IDENTITY_ACCESS_TOKEN_VERSION", "2");
    let (child, banner) = start(command);
    assert!(banner.contains("DEVELOPMENT ONLY"), "{banner}");
    assert!(banner.contains("ops (Admin)"), "{banner}");
    assert!(banner.contains("access tokens  v2"), "{banner}");
    let authority = banner
        .lines()
        .find_map(|line| line.trim().strip_prefix("authority"))
        .expect("the authority")
        .trim()
        .to_owned();
    assert!(authority.starts_with("http://127.0.0.1:"), "{authority}");
    assert!(
        banner.contains("AZURE_AUTHORITY_HOST=http://127.0.0.1:"),
        "{banner}"
    );

    let metadata: serde_json::Value =
        reqwest::get(format!("{authority}/v2.0/.well-known/openid-configuration"))
            .await
            .expect("serves")
            .json()
            .await
            .expect("json");
    assert_eq!(metadata["issuer"], format!("{authority}/v2.0"));
    assert_stops_cleanly_on_sigterm(child);
    std::fs::remove_file(path).expect("clean up");
}

#[test]
fn with_https_the_banner_says_how_to_trust_the_ca_and_an_exposed_ca_key_stops_it() {
    let data = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dev-identity-{}-cli-https", std::process::id()));
    let data_arg = data.to_str().expect("utf-8 path");
    let (child, banner) = start(command(&["--port", "0", "--https", "--data-dir", data_arg]));
    let ca = data.join("ca.pem");
    let ca = ca.display();
    assert!(banner.contains("a new local CA was created"), "{banner}");
    for line in [
        format!("NODE_EXTRA_CA_CERTS={ca}"),
        format!("REQUESTS_CA_BUNDLE={ca}"),
        format!("SSL_CERT_FILE={ca}"),
        "AZURE_AUTHORITY_HOST=https://127.0.0.1:".to_owned(),
    ] {
        assert!(banner.contains(&line), "{line} in {banner}");
    }
    assert!(
        banner
            .lines()
            .any(|line| line.trim().starts_with("authority      https://127.0.0.1:")),
        "{banner}"
    );
    assert_stops_cleanly_on_sigterm(child);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = data.join("ca-key.pem");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let (code, stderr) = run_failing(&["--port", "0", "--https", "--data-dir", data_arg]);
        assert_eq!(code, 1, "{stderr}");
        assert_one_line_error(&stderr, &format!("chmod 600 {}", key.display()));
    }
    std::fs::remove_dir_all(&data).expect("clean up");
}

#[test]
fn https_without_a_data_folder_asks_for_one() {
    let mut command = command(&["--port", "0", "--https"]);
    command
        .env_remove("HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("LOCALAPPDATA");
    let output = command.output().expect("runs");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_one_line_error(&stderr, "set --data-dir");
}

/// What a script or `cargo xtask dev` does to stop it: SIGTERM, then a clean exit, within seconds.
#[cfg(unix)]
fn assert_stops_cleanly_on_sigterm(mut child: Running) {
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    for _ in 0..100 {
        if let Some(status) = child.0.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            return;
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("still running 10 s after SIGTERM");
}

#[cfg(not(unix))]
fn assert_stops_cleanly_on_sigterm(child: Running) {
    drop(child);
}

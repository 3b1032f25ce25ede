//! `kuaibao serve` as a child process, for the tests of the daemon.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestConfig;

/// A `kuaibao serve` process on a port of its own.
pub struct Daemon {
    pub child: Child,
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
}

impl Daemon {
    /// `kuaibao -v serve --listen 127.0.0.1:0` on the configuration.
    pub fn start(tc: &TestConfig) -> Daemon {
        Daemon::start_with(tc, &[])
    }

    /// The same with more arguments for `serve` (`--role web`).
    pub fn start_with(tc: &TestConfig, serve_args: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
            .arg("--config")
            .arg(tc.path())
            .args(["-v", "serve", "--listen", "127.0.0.1:0"])
            .args(serve_args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("serve announces its address")
                .expect("line");
            if let Some(at) = line.find("http://") {
                let url = line[at..]
                    .split_whitespace()
                    .next()
                    .expect("url")
                    .to_string();
                break url;
            }
        };
        // Keep draining stderr so the daemon never blocks on a full pipe;
        // what it logs shows with a failing test's output.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("kuaibao serve: {line}");
            }
        });
        Daemon { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{name}");
    }

    /// SIGTERM, then the exit status within `bound`.
    pub fn stop(mut self, bound: Duration) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("kuaibao serve did not stop within {bound:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

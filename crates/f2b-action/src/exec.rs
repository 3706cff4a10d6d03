//! Command execution (upstream `Utils.executeCmd`): `/bin/sh -c` in a new session, output
//! captured, a lock serialising every command of the server, timeout → SIGTERM to the process
//! group, SIGKILL 0.2 s later. This is the only place in the workspace that spawns processes.
//!
//! Execution sits behind the [`Executor`] trait so that a batching executor (e.g. collecting
//! nftables set elements into one `nft -f` call) or a namespace-prefixing one can be plugged in.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A shell script plus the positional arguments holding escaped dynamic values
/// (`sh -c <script> <arg0> <arg1> …`, so `$0` is the first argument).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellCommand {
    /// The script text given to `sh -c`.
    pub script: String,
    /// Positional arguments (`$0`, `$1`, …).
    pub args: Vec<String>,
}

impl ShellCommand {
    /// A script without arguments.
    pub fn plain(script: impl Into<String>) -> Self {
        ShellCommand {
            script: script.into(),
            args: Vec::new(),
        }
    }

    /// Upstream `Utils.buildShellCmd`: prefixes `name=$i ` assignments and a newline.
    pub fn with_vars(cmd: String, vars: Vec<(String, String)>) -> Self {
        if vars.is_empty() {
            return ShellCommand::plain(cmd);
        }
        let mut stat = String::new();
        let mut args = Vec::with_capacity(vars.len());
        for (i, (k, v)) in vars.into_iter().enumerate() {
            stat.push_str(&format!("{k}=${i} "));
            args.push(v);
        }
        ShellCommand {
            script: format!("{stat}\n{cmd}"),
            args,
        }
    }

    /// True when there is nothing to run (upstream logs "Nothing to do" and succeeds).
    pub fn is_empty(&self) -> bool {
        self.script.is_empty()
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitKind {
    /// Normal exit with this code.
    Exited(i32),
    /// Killed by this signal (not by us).
    Signaled(i32),
    /// Timed out; we sent SIGTERM then SIGKILL to its process group.
    TimedOut,
    /// The process could not be spawned.
    SpawnFailed(String),
}

/// Result of one command execution.
#[derive(Debug, Clone)]
pub struct ExecOutcome {
    /// How it ended.
    pub exit: ExitKind,
    /// Captured standard output.
    pub stdout: Vec<u8>,
    /// Captured standard error.
    pub stderr: Vec<u8>,
    /// Wall time.
    pub elapsed: Duration,
}

impl ExecOutcome {
    /// True for exit code 0 (upstream `success_codes=(0,)`).
    pub fn success(&self) -> bool {
        self.exit == ExitKind::Exited(0)
    }

    /// Upstream's log wording for a failure: `returned N`, `killed with SIGx (return code: N)`,
    /// `timed out`, `failed with …`; `None` on success.
    pub fn failure_message(&self) -> Option<String> {
        match &self.exit {
            ExitKind::Exited(0) => None,
            // dash reports a signal as 128 + n
            ExitKind::Exited(c) if *c > 128 => Some(format!(
                "killed with {} (return code: {c})",
                signal_name(c - 128)
            )),
            ExitKind::Exited(127) => Some(
                "returned 127 (\"Command not found\": make sure all commands are in the PATH \
                 of the fail2ban-server process)"
                    .to_string(),
            ),
            ExitKind::Exited(c) => Some(format!("returned {c}")),
            ExitKind::Signaled(s) => Some(format!(
                "killed with {} (return code: -{s})",
                signal_name(*s)
            )),
            ExitKind::TimedOut => Some("timed out".to_string()),
            ExitKind::SpawnFailed(e) => Some(format!("failed with {e}")),
        }
    }
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGPIPE => "SIGPIPE".into(),
        libc::SIGABRT => "SIGABRT".into(),
        s => format!("signal {s}"),
    }
}

/// Runs action commands. Implementations own the serialisation policy.
pub trait Executor: Send + Sync {
    /// Runs one command with a timeout and reports how it ended.
    fn execute(&self, cmd: &ShellCommand, timeout: Duration) -> ExecOutcome;
}

/// The default executor: `/bin/sh -c` under a lock shared by all its users.
#[derive(Debug)]
pub struct ShellExecutor {
    lock: Mutex<()>,
    prefix: Vec<OsString>,
    shell: OsString,
}

impl Default for ShellExecutor {
    fn default() -> Self {
        ShellExecutor::new()
    }
}

impl ShellExecutor {
    /// A new executor with its own lock, running `/bin/sh`.
    pub fn new() -> Self {
        ShellExecutor {
            lock: Mutex::new(()),
            prefix: Vec::new(),
            shell: "/bin/sh".into(),
        }
    }

    /// An executor that runs `prefix… /bin/sh -c …`, e.g. `["ip", "netns", "exec", "ns1"]`.
    pub fn with_prefix<I, S>(prefix: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut e = ShellExecutor::new();
        e.prefix = prefix.into_iter().map(Into::into).collect();
        e
    }

    /// The server-wide executor: one lock for every command of the process (as upstream).
    pub fn global() -> Arc<dyn Executor> {
        static GLOBAL: OnceLock<Arc<ShellExecutor>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| Arc::new(ShellExecutor::new()))
            .clone()
    }

    fn build(&self, cmd: &ShellCommand) -> Command {
        let mut c = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.shell);
                c
            }
            None => Command::new(&self.shell),
        };
        // a NUL cannot be passed in an argument; log lines may carry one (upstream fails the
        // whole command then, which would let an attacker suppress e.g. a mail action)
        c.arg("-c")
            .arg(cmd.script.replace('\0', "\\0"))
            .args(cmd.args.iter().map(|a| a.replace('\0', "\\0")));
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setsid is async-signal-safe; the closure touches no shared state.
        unsafe {
            c.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        c
    }
}

impl Executor for ShellExecutor {
    fn execute(&self, cmd: &ShellCommand, timeout: Duration) -> ExecOutcome {
        let start = Instant::now();
        if cmd.is_empty() {
            return ExecOutcome {
                exit: ExitKind::Exited(0),
                stdout: Vec::new(),
                stderr: Vec::new(),
                elapsed: Duration::ZERO,
            };
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut child = match self.build(cmd).spawn() {
            Ok(c) => c,
            Err(e) => {
                return ExecOutcome {
                    exit: ExitKind::SpawnFailed(e.to_string()),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                    elapsed: start.elapsed(),
                }
            }
        };
        let out_rx = spawn_reader(child.stdout.take());
        let err_rx = spawn_reader(child.stderr.take());
        let pid = child.id() as libc::pid_t;
        let deadline = start + timeout;
        let mut sleep = Duration::from_micros(50);
        let exit = loop {
            match child.try_wait() {
                Ok(Some(st)) => break exit_kind(st),
                Ok(None) => {}
                Err(e) => break ExitKind::SpawnFailed(e.to_string()),
            }
            let now = Instant::now();
            if now >= deadline {
                // the child called setsid, so its pid is its process group id
                // SAFETY: plain syscalls on a process group we created.
                unsafe { libc::killpg(pid, libc::SIGTERM) };
                std::thread::sleep(Duration::from_millis(200));
                // SAFETY: as above.
                unsafe { libc::killpg(pid, libc::SIGKILL) };
                let _ = child.wait();
                break ExitKind::TimedOut;
            }
            std::thread::sleep(sleep.min(deadline - now));
            sleep = (sleep * 2).min(Duration::from_millis(1));
        };
        // a background grandchild may keep the pipes open: don't wait for it forever
        let grace = Duration::from_millis(if exit == ExitKind::TimedOut { 50 } else { 500 });
        let stdout = out_rx.recv_timeout(grace).unwrap_or_default();
        let stderr = err_rx.recv_timeout(grace).unwrap_or_default();
        ExecOutcome {
            exit,
            stdout,
            stderr,
            elapsed: start.elapsed(),
        }
    }
}

/// An executor that runs nothing: it records each command and reports success, or the exit
/// code of the first registered failure pattern found in the script. For tests of code that
/// drives actions (the server) without spawning processes.
#[derive(Debug, Default)]
pub struct RecordingExecutor {
    calls: Mutex<Vec<ShellCommand>>,
    failures: Mutex<Vec<(String, i32)>>,
}

impl RecordingExecutor {
    /// A recorder where every command succeeds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Commands whose script contains `needle` exit with `code` from now on.
    pub fn fail_when_contains(&self, needle: &str, code: i32) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((needle.to_string(), code));
    }

    /// The commands executed so far.
    pub fn commands(&self) -> Vec<ShellCommand> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Executor for RecordingExecutor {
    fn execute(&self, cmd: &ShellCommand, _timeout: Duration) -> ExecOutcome {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(cmd.clone());
        let code = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(n, _)| cmd.script.contains(n.as_str()))
            .map_or(0, |(_, c)| *c);
        ExecOutcome {
            exit: ExitKind::Exited(code),
            stdout: Vec::new(),
            stderr: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }
}

fn exit_kind(st: std::process::ExitStatus) -> ExitKind {
    match (st.code(), st.signal()) {
        (Some(c), _) => ExitKind::Exited(c),
        (None, Some(s)) => ExitKind::Signaled(s),
        (None, None) => ExitKind::Exited(-1),
    }
}

fn spawn_reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut p) = pipe {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = p.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    } else {
        let _ = tx.send(Vec::new());
    }
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_arguments_are_not_interpreted() {
        let e = ShellExecutor::new();
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pwned");
        let evil = format!("$(touch {m}); `touch {m}`; touch {m}", m = marker.display());
        let cmd = ShellCommand::with_vars(
            "printf '%s' \"$f2bV_x\"".to_string(),
            vec![("f2bV_x".to_string(), evil.clone())],
        );
        let out = e.execute(&cmd, Duration::from_secs(5));
        assert!(out.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), evil);
        assert!(!marker.exists());
    }

    #[test]
    fn exit_codes_and_output() {
        let e = ShellExecutor::new();
        let cases: [(&str, ExitKind, &str, &str); 4] = [
            (
                "echo out; echo err >&2",
                ExitKind::Exited(0),
                "out\n",
                "err\n",
            ),
            ("exit 3", ExitKind::Exited(3), "", ""),
            ("kill -9 $$", ExitKind::Signaled(9), "", ""),
            (
                "no-such-command-f2b 2>/dev/null",
                ExitKind::Exited(127),
                "",
                "",
            ),
        ];
        for (script, exit, so, se) in cases {
            let o = e.execute(&ShellCommand::plain(script), Duration::from_secs(5));
            assert_eq!(o.exit, exit, "{script}");
            assert_eq!(String::from_utf8_lossy(&o.stdout), so, "{script}");
            assert_eq!(String::from_utf8_lossy(&o.stderr), se, "{script}");
        }
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let e = ShellExecutor::new();
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        // a grandchild in the same group must die too
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let o = e.execute(&ShellCommand::plain(script), Duration::from_secs(1));
        assert_eq!(o.exit, ExitKind::TimedOut);
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // gone, or a zombie waiting for a reaper (state Z/X in /proc/<pid>/stat)
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit(')').next().map(|r| r.trim().chars().next()))
            .flatten();
        assert!(
            matches!(state, None | Some('Z') | Some('X')),
            "grandchild {pid} survived the timeout (state {state:?})"
        );
    }

    #[test]
    fn runs_in_a_new_session() {
        let e = ShellExecutor::new();
        let o = e.execute(
            &ShellCommand::plain("ps -o sid= -p $$; echo $$"),
            Duration::from_secs(5),
        );
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let nums: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(nums.len(), 2, "{text}");
        assert_eq!(nums[0], nums[1], "shell is the session leader");
    }
}

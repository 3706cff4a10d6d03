//! The control socket: a Unix stream socket created like upstream's `AsyncServer`
//! (parent directory created, mode 0700 through umask 077, refuses to start over an
//! existing socket unless forced, removed on exit), plus a root-only peer check
//! (SO_PEERCRED). Each connection gets its own thread (bounded); the bytes of one
//! request (up to `<F2B_END_COMMAND>`) go to a [`FrameHandler`].

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::f2b_log;

/// End of one message.
pub const END: &[u8] = b"<F2B_END_COMMAND>";
/// The client's goodbye (followed by [`END`]).
pub const CLOSE: &[u8] = b"<F2B_CLOSE_COMMAND>";

/// Most connections served at once; further clients wait in the listen backlog.
/// Upstream's asyncore loop serves any number of idle peers, so the bound is far
/// above what a hung monitoring script or a burst of clients opens; threads only
/// reserve their stack, pages are touched on use.
pub const MAX_CONNECTIONS: usize = 4096;
/// Stack of one connection thread (the decoder and pretty-printer recurse).
const CONN_STACK: usize = 2 << 20;
/// Largest request accepted (a reload stream of many jails stays far below).
pub const MAX_MESSAGE: usize = 64 << 20;

/// Answers requests. Implemented by the server's dispatcher (which knows pickle).
pub trait FrameHandler: Send + Sync {
    /// The reply (without the end marker) for one request (without the end marker).
    fn handle(&self, request: &[u8]) -> Vec<u8>;
    /// The reply sent to a peer that is not allowed to talk to us, before closing.
    fn refuse(&self, uid: u32) -> Vec<u8>;
    /// The reply to a request larger than [`MAX_MESSAGE`].
    fn too_large(&self) -> Vec<u8>;
}

/// Why the socket could not be created.
#[derive(Debug)]
pub enum SocketError {
    /// The socket file exists and `-x` was not given.
    AlreadyRunning,
    /// bind/listen failed.
    Bind(String, std::io::Error),
}

impl std::fmt::Display for SocketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SocketError::AlreadyRunning => f.write_str("Server already running"),
            SocketError::Bind(p, _) => write!(f, "Unable to bind socket {p}"),
        }
    }
}

impl std::error::Error for SocketError {}

/// A bound control socket.
pub struct ControlSocket {
    path: PathBuf,
    listener: UnixListener,
    stopping: Arc<AtomicBool>,
    active: Arc<(Mutex<usize>, Condvar)>,
}

/// Stops a serving [`ControlSocket`] from another thread.
#[derive(Clone)]
pub struct StopHandle {
    fd: i32,
    stopping: Arc<AtomicBool>,
    path: PathBuf,
}

impl StopHandle {
    /// Makes `serve` return and removes the socket file right away (like upstream,
    /// whose `quit` removes it before answering `stop`, so that `restart` can start
    /// a new server at once).
    pub fn stop(&self) {
        if !self.stopping.swap(true, Ordering::SeqCst) {
            // SAFETY: shutting down the listening descriptor wakes a blocked accept(2)
            // on Linux; the descriptor stays owned by the listener.
            unsafe {
                libc::shutdown(self.fd, libc::SHUT_RDWR);
            }
            if std::fs::remove_file(&self.path).is_ok() {
                f2b_log!(
                    DEBUG,
                    "asyncserver",
                    "Removed socket file {}",
                    self.path.display()
                );
            }
        }
    }

    /// True once [`StopHandle::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

impl ControlSocket {
    /// Creates the socket at `path` (upstream `AsyncServer.start` before its loop).
    pub fn bind(path: &str, force: bool) -> Result<ControlSocket, SocketError> {
        let p = PathBuf::from(path);
        if std::fs::symlink_metadata(&p).is_ok() {
            f2b_log!(ERROR, "asyncserver", "Fail2ban seems to be already running");
            if force {
                f2b_log!(WARNING, "asyncserver", "Forcing execution of the server");
                let _ = std::fs::remove_file(&p);
            } else {
                return Err(SocketError::AlreadyRunning);
            }
        }
        let _ = crate::daemon::make_file_path(path);
        let listener = bind_with_backlog(path).map_err(|e| SocketError::Bind(path.into(), e))?;
        Ok(ControlSocket {
            path: p,
            listener,
            stopping: Arc::new(AtomicBool::new(false)),
            active: Arc::new((Mutex::new(0), Condvar::new())),
        })
    }

    /// A handle to stop [`ControlSocket::serve`].
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            fd: self.listener.as_raw_fd(),
            stopping: self.stopping.clone(),
            path: self.path.clone(),
        }
    }

    /// Accepts connections until stopped; one thread per connection.
    pub fn serve(&self, handler: Arc<dyn FrameHandler>) {
        let mut errors = 0u32;
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            // bound the number of connection threads
            {
                let (lock, cv) = &*self.active;
                let mut n = lock.lock().unwrap_or_else(|e| e.into_inner());
                while *n >= MAX_CONNECTIONS && !self.stopping.load(Ordering::SeqCst) {
                    n = cv
                        .wait_timeout(n, std::time::Duration::from_millis(200))
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
            let conn = match self.listener.accept() {
                Ok((c, _)) => c,
                Err(e) => {
                    if self.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    errors += 1;
                    if errors < 20 {
                        f2b_log!(WARNING, "asyncserver", "Accept socket error: {e}");
                    } else if errors == 20 {
                        f2b_log!(
                            ERROR,
                            "asyncserver",
                            "Too many acceptor errors - stop logging errors"
                        );
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    continue;
                }
            };
            errors = errors.saturating_sub(1);
            let handler = handler.clone();
            let active = self.active.clone();
            *active.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            let spawned = std::thread::Builder::new()
                .name("f2b/conn".into())
                .stack_size(CONN_STACK)
                .spawn(move || {
                    serve_connection(conn, &*handler);
                    let (lock, cv) = &*active;
                    *lock.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                    cv.notify_one();
                });
            if spawned.is_err() {
                *self.active.0.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                f2b_log!(ERROR, "asyncserver", "Unable to start a connection thread");
            }
        }
    }

    /// Waits (at most `max`) until no connection is being served, so that the reply
    /// to `stop` reaches its client before the process exits.
    pub fn wait_idle(&self, max: std::time::Duration) {
        let deadline = std::time::Instant::now() + max;
        let (lock, cv) = &*self.active;
        let mut n = lock.lock().unwrap_or_else(|e| e.into_inner());
        while *n > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            n = cv
                .wait_timeout(n, left.min(std::time::Duration::from_millis(50)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Removes the socket file (at shutdown).
    pub fn remove(&self) {
        if self.path.exists() {
            let _ = std::fs::remove_file(&self.path);
            f2b_log!(
                DEBUG,
                "asyncserver",
                "Removed socket file {}",
                self.path.display()
            );
        }
    }
}

fn bind_with_backlog(path: &str) -> std::io::Result<UnixListener> {
    // std's bind uses a backlog of 128; upstream's listen(1) would refuse bursts of
    // concurrent clients, which helps nobody.
    UnixListener::bind(path)
}

/// uid of the peer of a Unix stream.
pub fn peer_uid(conn: &UnixStream) -> Option<u32> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    getsockopt(conn, PeerCredentials).ok().map(|c| c.uid())
}

/// Only root (and the user the server runs as) may command the server.
fn peer_allowed(uid: u32) -> bool {
    // SAFETY: geteuid cannot fail.
    uid == 0 || uid == unsafe { libc::geteuid() }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn serve_connection(mut conn: UnixStream, handler: &dyn FrameHandler) {
    match peer_uid(&conn) {
        Some(uid) if peer_allowed(uid) => {}
        other => {
            let uid = other.unwrap_or(u32::MAX);
            f2b_log!(
                WARNING,
                "asyncserver",
                "Refused connection of a non-root peer (uid {uid})"
            );
            let mut reply = handler.refuse(uid);
            reply.extend_from_slice(END);
            let _ = conn.write_all(&reply);
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut scan_from = 0usize;
    let mut chunk = [0u8; 16384];
    loop {
        // answer every complete message in the buffer
        while let Some(pos) = find(&buf, END, scan_from) {
            let msg: Vec<u8> = buf.drain(..pos + END.len()).take(pos).collect();
            scan_from = 0;
            if msg == CLOSE {
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return;
            }
            let mut reply = handler.handle(&msg);
            reply.extend_from_slice(END);
            if conn.write_all(&reply).is_err() {
                return;
            }
        }
        scan_from = buf.len().saturating_sub(END.len() - 1);
        if buf.len() > MAX_MESSAGE {
            let mut reply = handler.too_large();
            reply.extend_from_slice(END);
            let _ = conn.write_all(&reply);
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
        match conn.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl FrameHandler for Echo {
        fn handle(&self, request: &[u8]) -> Vec<u8> {
            let mut v = b"re:".to_vec();
            v.extend_from_slice(request);
            v
        }
        fn refuse(&self, _uid: u32) -> Vec<u8> {
            b"refused".to_vec()
        }
        fn too_large(&self) -> Vec<u8> {
            b"large".to_vec()
        }
    }

    /// Reads the next reply; `pending` keeps bytes of replies read ahead.
    fn read_reply(c: &mut UnixStream, pending: &mut Vec<u8>) -> Vec<u8> {
        let mut b = [0u8; 256];
        loop {
            if let Some(p) = find(pending, END, 0) {
                let msg: Vec<u8> = pending.drain(..p + END.len()).take(p).collect();
                return msg;
            }
            let n = c.read(&mut b).unwrap();
            assert!(
                n > 0,
                "connection closed early: {:?}",
                String::from_utf8_lossy(pending)
            );
            pending.extend_from_slice(&b[..n]);
        }
    }

    #[test]
    fn frames_split_and_pipelined() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("run/s.sock");
        let sock = Arc::new(ControlSocket::bind(path.to_str().unwrap(), false).unwrap());
        let stop = sock.stop_handle();
        let s2 = sock.clone();
        let t = std::thread::spawn(move || s2.serve(Arc::new(Echo)));

        let mut c = UnixStream::connect(&path).unwrap();
        let mut pending = Vec::new();
        // a message split inside the end marker, then two messages in one write
        c.write_all(b"one<F2B_END_").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        c.write_all(b"COMMAND>").unwrap();
        assert_eq!(read_reply(&mut c, &mut pending), b"re:one");
        c.write_all(b"two<F2B_END_COMMAND>three<F2B_END_COMMAND>")
            .unwrap();
        assert_eq!(read_reply(&mut c, &mut pending), b"re:two");
        assert_eq!(read_reply(&mut c, &mut pending), b"re:three");
        c.write_all(b"<F2B_CLOSE_COMMAND><F2B_END_COMMAND>")
            .unwrap();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());

        // second bind over the live socket is refused without force
        assert!(matches!(
            ControlSocket::bind(path.to_str().unwrap(), false),
            Err(SocketError::AlreadyRunning)
        ));
        stop.stop();
        t.join().unwrap();
        sock.remove();
        assert!(!path.exists());
    }
}

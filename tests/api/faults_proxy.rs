//! A TCP proxy between choixbot and Dovecot that can fail the way networks
//! do: stop forwarding without closing anything (packets dropped, no FIN),
//! cut a connection in the middle of a transfer, or cut every connection
//! and refuse new ones for as long as a test wants (an outage). It can also hold a
//! transfer half-way, so that a test acts on the server (restarts it) at an
//! exact point of a command.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy's shared state.
#[derive(Default)]
struct State {
    /// Connections opened before this generation are silently dead.
    generation: AtomicU64,
    /// Connections accepted so far.
    connections: AtomicUsize,
    /// Cut the next connection once this many bytes came from the server
    /// (0: never). Used once.
    cut_after: AtomicUsize,
    /// Hold the next connection once this many bytes came from the server
    /// (0: never), until [`FaultProxy::release`]. Used once.
    hold_after: AtomicUsize,
    /// Signalled when a transfer is being held.
    held: tokio::sync::Notify,
    /// Signalled to let a held transfer go on.
    released: tokio::sync::Notify,
    /// While true, new connections are closed at once.
    refusing: std::sync::atomic::AtomicBool,
    /// Signalled (to every forwarder) to close every open connection.
    sever: tokio::sync::Notify,
}

/// A running proxy (it lives as long as the test's runtime).
#[derive(Clone)]
pub struct FaultProxy {
    /// The port choixbot connects to.
    pub port: u16,
    /// Shared with the forwarding tasks.
    state: Arc<State>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream_port`.
    pub async fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                if shared.refusing.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                // While the server restarts, a connection is refused: the
                // client is closed at once, as the server itself would.
                if let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await {
                    tokio::spawn(forward(client, upstream, shared.clone()));
                }
            }
        });
        FaultProxy { port, state }
    }

    /// Every open connection stops forwarding, silently; new ones work.
    pub fn drop_packets_of_open_connections(&self) {
        self.state.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The next connection to receive `bytes` from the server is closed.
    pub fn cut_next_transfer_after(&self, bytes: usize) {
        self.state.cut_after.store(bytes, Ordering::SeqCst);
    }

    /// The next connection to receive `bytes` from the server stops
    /// reading from it (the server blocks writing the rest) until
    /// [`FaultProxy::release`].
    pub fn hold_next_transfer_after(&self, bytes: usize) {
        self.state.hold_after.store(bytes, Ordering::SeqCst);
    }

    /// Waits until a transfer is held; panics after `timeout`.
    pub async fn wait_until_held(&self, timeout: std::time::Duration) {
        if tokio::time::timeout(timeout, self.state.held.notified()).await.is_err() {
            panic!("no transfer reached the hold point within {timeout:?}: the test aimed wrong");
        }
    }

    /// Lets the held transfer go on.
    pub fn release(&self) {
        self.state.released.notify_one();
    }

    /// An outage: every open connection is closed, and new ones are closed
    /// at once, until [`FaultProxy::restore`].
    pub fn cut_everything(&self) {
        self.state.refusing.store(true, Ordering::SeqCst);
        self.state.sever.notify_waiters();
    }

    /// The end of the outage: new connections are forwarded again.
    pub fn restore(&self) {
        self.state.refusing.store(false, Ordering::SeqCst);
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

async fn forward(client: TcpStream, upstream: TcpStream, state: Arc<State>) {
    let generation = state.generation.load(Ordering::SeqCst);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let alive = |state: &State| state.generation.load(Ordering::SeqCst) == generation;
    let to_server = async {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = client_read.read(&mut buffer).await.unwrap_or(0);
            if n == 0 || !alive(&state) {
                break;
            }
            if upstream_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    let to_client = async {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut received = 0;
        loop {
            let n = upstream_read.read(&mut buffer).await.unwrap_or(0);
            if n == 0 || !alive(&state) {
                break;
            }
            received += n;
            let limit = state.cut_after.load(Ordering::SeqCst);
            if limit > 0 && received > limit && state.cut_after.swap(0, Ordering::SeqCst) > 0 {
                return true;
            }
            let hold = state.hold_after.load(Ordering::SeqCst);
            if hold > 0 && received > hold && state.hold_after.swap(0, Ordering::SeqCst) > 0 {
                state.held.notify_one();
                state.released.notified().await;
            }
            if client_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
        false
    };
    let cut = tokio::select! {
        _ = to_server => false,
        cut = to_client => cut,
        _ = state.sever.notified() => true,
    };
    if cut {
        return; // the halves are dropped: FIN to both sides
    }
    if !alive(&state) {
        // Dead without a word: hold both sockets open forever.
        std::future::pending::<()>().await;
    }
}

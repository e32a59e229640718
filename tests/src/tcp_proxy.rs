//! A TCP proxy on a loopback port that can cut the network between a
//! client and a real service (moto) and restore it: an outage of the
//! service as the client sees it, while the service keeps its state.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The proxy; it stops when dropped.
pub struct TcpProxy {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TcpProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpProxy").field("addr", &self.addr).field("open", &self.is_open()).finish()
    }
}

impl TcpProxy {
    /// Starts a proxy on `127.0.0.1:<free port>` forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let open = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let accept = {
            let (open, connections) = (open.clone(), connections.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else { return };
                    if !open.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap_or_else(|p| p.into_inner()).push(task.abort_handle());
                    // Cut while this one was being set up: close it too.
                    if !open.load(Ordering::SeqCst) {
                        task.abort();
                    }
                }
            })
        };
        TcpProxy { addr, open, connections, accept }
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give the client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts the network: open connections are closed and new ones are
    /// closed as soon as they are accepted.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            connection.abort();
        }
    }

    /// Restores the network.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    /// Whether connections are forwarded.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for connection in self.connections.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            connection.abort();
        }
    }
}

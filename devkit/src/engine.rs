//! The embedded DynamoDB engine: dynoxide's HTTP server on a loopback port, in this process.
//!
//! The SDK talks to it exactly as it talks to DynamoDB (same wire protocol, same client), so the
//! code under test is the code that ships.

use crate::isolation::Isolation;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// A running engine. Dropping it stops the server.
pub struct Engine {
    /// Where the SDK connects: the engine itself, or the isolation model in front of it.
    addr: SocketAddr,
    /// DynamoDB's transaction isolation, modelled in front of the engine ([`Engine::isolated`]).
    isolation: Option<Arc<Isolation>>,
    stop: Option<oneshot::Sender<()>>,
    finished: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl Engine {
    /// An in-memory engine on an ephemeral port: nothing survives the process.
    pub async fn memory() -> std::io::Result<Self> {
        let db = dynoxide::Database::memory().map_err(std::io::Error::other)?;
        Self::serve(db, "127.0.0.1:0").await
    }

    /// An engine persisted to a SQLite file at `path` (created if missing), listening on `addr`.
    pub async fn on_disk(path: &Path, addr: &str) -> std::io::Result<Self> {
        let path = path
            .to_str()
            .ok_or_else(|| std::io::Error::other("the data path is not valid UTF-8"))?;
        let db = dynoxide::Database::new(path).map_err(std::io::Error::other)?;
        Self::serve(db, addr).await
    }

    /// An in-memory engine listening on `addr` (e.g. a fixed port for `cargo lambda watch`).
    pub async fn memory_on(addr: &str) -> std::io::Result<Self> {
        let db = dynoxide::Database::memory().map_err(std::io::Error::other)?;
        Self::serve(db, addr).await
    }

    async fn serve(db: dynoxide::Database, addr: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let finished = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            isolation: None,
            stop: Some(stop),
            finished: Some(finished),
        })
    }

    /// The same engine behind DynamoDB's transaction isolation ([`crate::isolation`]), whose
    /// transactions hold their items `hold` longer than the engine takes: from here on,
    /// [`Engine::endpoint`] is the model's (on its own loopback port), so every client of this
    /// engine meets the conflicts DynamoDB answers with.
    pub async fn isolated(self, hold: Duration) -> std::io::Result<Self> {
        self.isolated_on(hold, "127.0.0.1:0").await
    }

    /// As [`Engine::isolated`], with the model listening on `addr`.
    pub async fn isolated_on(mut self, hold: Duration, addr: &str) -> std::io::Result<Self> {
        let isolation = Isolation::new(hold);
        let front = crate::proxy::Proxy::start_on(&self.endpoint(), addr).await?;
        front.isolate(Arc::clone(&isolation));
        self.addr = front.addr();
        self.isolation = Some(isolation);
        Ok(self)
    }

    /// The isolation model in front of this engine, if any.
    pub fn isolation(&self) -> Option<&Arc<Isolation>> {
        self.isolation.as_ref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL for the SDK (`AWS_ENDPOINT_URL_DYNAMODB`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for requests in flight to finish, so an on-disk
    /// database is closed cleanly.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(finished) = self.finished.take() {
            let _ = finished.await;
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

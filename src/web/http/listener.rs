//! The HTTP listener: a slot per connection, at most [`MAX_CONNECTIONS`],
//! and an idle connection closed after [`IDLE_TIMEOUT`]. It owns the
//! sockets; it must not look at requests.

use std::net::SocketAddr;
use std::sync::Arc;

/// The client's address as the capped listener saw it.
#[derive(Debug, Clone, Copy)]
pub(super) struct PeerAddr(pub(super) SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Capped>> for PeerAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Capped>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// The most connections served at once: well below the 1,024 open files a
/// process gets by default, so idle or hostile connections can never take
/// the files a play needs. More wait in the kernel's queue.
pub const MAX_CONNECTIONS: usize = 256;

/// A connection that sends nothing for this long is closed (an idle
/// keep-alive, a half-sent request held open): its slot comes back.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The listener, with a slot per connection ([`MAX_CONNECTIONS`]).
pub(super) struct Capped {
    pub(super) inner: tokio::net::TcpListener,
    pub(super) slots: Arc<tokio::sync::Semaphore>,
}

impl axum::serve::Listener for Capped {
    type Io = CappedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Not accepted (no file taken) until a slot is free.
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (
            CappedStream {
                io,
                _slot: permit,
                idle: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One served connection: holds its slot, and ends when the peer has
/// sent nothing for [`IDLE_TIMEOUT`].
pub(super) struct CappedStream {
    io: tokio::net::TcpStream,
    _slot: tokio::sync::OwnedSemaphorePermit,
    idle: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl tokio::io::AsyncRead for CappedStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    let next = tokio::time::Instant::now() + IDLE_TIMEOUT;
                    self.idle.as_mut().reset(next);
                }
                Poll::Ready(r)
            }
            Poll::Pending => match std::future::Future::poll(self.idle.as_mut(), cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection idle",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl tokio::io::AsyncWrite for CappedStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

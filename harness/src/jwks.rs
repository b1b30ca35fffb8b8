//! The development issuer's key set, served as an issuer serves it: `GET` anywhere on a loopback
//! port answers the JWKS, so functions fetch it over the network during init, as deployed. Put
//! [`crate::tls::TestCa::terminate`] in front of it for HTTPS.

use http_body_util::Full;
use hyper::body::Bytes;
use std::net::SocketAddr;

/// Serves `body` (a JWKS document) on `127.0.0.1:0` until the process ends.
pub async fn serve(body: String) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let body = Bytes::from(body);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_| {
                    let mut response = hyper::Response::new(Full::new(body.clone()));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

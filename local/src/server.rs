//! The HTTP front door: API Gateway's part in the local API.
//!
//! For each request it resolves the route, builds the payload-2.0 event API Gateway would send,
//! turns it into a `lambda_http::Request` the way the Lambda runtime does, and awaits the
//! function's own handler. Like API Gateway, it answers unknown routes itself and caps bodies
//! (10 MiB); a handler that panicked becomes a 502, as a failed Lambda invocation does. Each
//! invocation gets Lambda's deadline (`FUNCTION_TIMEOUT`, the template's `Timeout`) in its context,
//! and one still running at it is cut off with API Gateway's bare 500, as on AWS.
//!
//! With `--auth-mode authorizer` it also plays API Gateway's JWT authorizer on every route that
//! needs a token: a request whose bearer token does not verify gets the gateway's own 401
//! (`{"message":"Unauthorized"}`), and the function, in `AUTH_MODE=authorizer`, reads the
//! verified claims from `requestContext.authorizer.jwt.claims`, passed as API Gateway passes
//! them (every value a string).

use devkit::apigw::Call;
use devkit::routes::{self, Resolved};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use lambda_http::RequestExt;
use shared::auth::Authenticator;
use shared::{ApiError, App};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// API Gateway's own payload cap; each function enforces its far smaller one.
pub const MAX_GATEWAY_BODY: usize = 10 * 1024 * 1024;
/// How long shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(5);

type HttpResponse = hyper::Response<Full<Bytes>>;

/// What every request needs: the functions' app and authenticator, and the development key set
/// to serve at [`JWKS_PATH`] (absent when a real issuer is trusted).
pub struct State {
    pub app: App,
    pub auth: Arc<Authenticator>,
    /// The emulated JWT authorizer in front of the protected routes; `None`: the functions
    /// verify tokens themselves.
    pub gateway: Option<Arc<Authenticator>>,
    pub jwks: Option<String>,
    pub cors: crate::cors::Cors,
}

/// Where the local API serves the development issuer's public keys.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Serves `state` on `listener` until `shutdown` resolves, then drains requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(err) => {
                        tracing::warn!(error = %err, "accept failed");
                        continue;
                    }
                };
                let state = Arc::clone(&state);
                let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), peer, req));
                let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}

async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<HttpResponse, Infallible> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let origin = req
        .headers()
        .get(hyper::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // API Gateway answers a CORS preflight itself, for any path, without calling a function.
    if method == "OPTIONS" && crate::cors::Cors::is_preflight(req.headers()) {
        let mut response = hyper::Response::new(Full::new(Bytes::new()));
        *response.status_mut() = hyper::StatusCode::NO_CONTENT;
        *response.headers_mut() = state.cors.preflight(req.headers());
        tracing::info!("{method} {path} -> 204 (CORS preflight)");
        return Ok(response);
    }
    let cors = state.cors.clone();
    let mut response = route(state, peer, req).await;
    cors.decorate(origin.as_deref(), response.headers_mut());
    tracing::info!(
        "{method} {path} -> {} ({:.1} ms)",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(response)
}

async fn route(state: Arc<State>, peer: SocketAddr, req: hyper::Request<Incoming>) -> HttpResponse {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    if let (Some(jwks), "GET", JWKS_PATH) = (&state.jwks, method.as_str(), path.as_str()) {
        let mut response = hyper::Response::new(Full::new(Bytes::from(jwks.clone())));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return response;
    }
    let route = match routes::resolve(&method, &path) {
        Resolved::Found(route) => route,
        Resolved::NotFound => {
            return gateway_problem(&ApiError::NotFound(format!("no route for {method} {path}")));
        }
        Resolved::WrongMethod { allow } => {
            return gateway_problem(&ApiError::MethodNotAllowed {
                method,
                allow: allow.join(", "),
            });
        }
    };
    let target = req
        .uri()
        .path_and_query()
        .map_or(path.clone(), |pq| pq.as_str().to_owned());
    let mut call = Call::new(&method, route.path, &target).source_ip(&peer.ip().to_string());
    if let Some(gateway) = state.gateway.as_ref().filter(|_| !route.function.public()) {
        match gateway.authorize(req.headers()).await {
            Ok(claims) => call = call.jwt_claims(&claims),
            Err(err) => return unauthorized(&err),
        }
    }
    for (name, value) in req.headers() {
        match value.to_str() {
            Ok(value) => call = call.header(name.as_str(), value),
            Err(_) => {
                return gateway_problem(&ApiError::bad_request(format!(
                    "header {name} is not visible ASCII"
                )));
            }
        }
    }
    let body = match Limited::new(req.into_body(), MAX_GATEWAY_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return gateway_problem(&ApiError::PayloadTooLarge {
                limit: MAX_GATEWAY_BODY,
            });
        }
    };
    if !body.is_empty() {
        call = call.body(body.to_vec());
    }
    let request = match call.request() {
        Ok(request) => request,
        Err(err) => {
            return gateway_problem(&ApiError::bad_request(format!(
                "the request cannot be represented as an API Gateway event: {err}"
            )));
        }
    };
    let mut context = lambda_http::Context::default();
    // The deadline Lambda would set: the functions budget their DynamoDB calls against it.
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        + devkit::apigw::FUNCTION_TIMEOUT.as_millis();
    context.deadline = u64::try_from(deadline).unwrap_or(u64::MAX);
    context.request_id = request
        .request_context_ref()
        .and_then(|c| match c {
            lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
            _ => None,
        })
        .unwrap_or_default();
    let request = request.with_lambda_context(context);
    // A task of its own per invocation, so a handler that panics fails its request, not the server.
    // Observed as on Lambda: one request log line each (no metrics: one process serves all).
    let invoked = tokio::spawn(async move {
        let state = &state;
        let function = route.function;
        let handler = move |req| async move {
            Ok::<_, std::convert::Infallible>(
                crate::dispatch::invoke(function, &state.app, &state.auth, req).await,
            )
        };
        shared::lambda::observe(state.app.config(), request, &handler).await
    });
    // Lambda's side of the deadline: an invocation still running at it is cut off, and the
    // client gets API Gateway's bare error (the functions answer 503 before it, so this is a
    // backstop that shows a budget bug locally as it would show on AWS).
    let abort = invoked.abort_handle();
    let invoked = match tokio::time::timeout(devkit::apigw::FUNCTION_TIMEOUT, invoked).await {
        Ok(invoked) => invoked,
        Err(_) => {
            // Lambda stops the invocation: nothing of it runs on after the answer.
            abort.abort();
            tracing::error!(function = route.function.binary(), "the function timed out");
            let mut response = hyper::Response::new(Full::new(Bytes::from_static(
                br#"{"message":"Internal Server Error"}"#,
            )));
            *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            return response;
        }
    };
    match invoked {
        Ok(Ok(response)) => into_http(response),
        Ok(Err(never)) => match never {},
        Err(err) => {
            tracing::error!(error = %err, function = route.function.binary(), "the handler panicked");
            let mut response = gateway_problem(&ApiError::Internal("the function failed".into()));
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            response
        }
    }
}

/// API Gateway's answer when its JWT authorizer refuses a request: a bare 401, before any
/// function runs.
fn unauthorized(err: &shared::auth::AuthError) -> HttpResponse {
    tracing::info!(reason = %err, "the emulated JWT authorizer refused the request");
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(
        br#"{"message":"Unauthorized"}"#,
    )));
    *response.status_mut() = hyper::StatusCode::UNAUTHORIZED;
    let challenge = match err {
        shared::auth::AuthError::Missing => "Bearer",
        _ => r#"Bearer error="invalid_token""#,
    };
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        hyper::header::WWW_AUTHENTICATE,
        hyper::header::HeaderValue::from_static(challenge),
    );
    response
}

fn gateway_problem(err: &ApiError) -> HttpResponse {
    into_http(shared::http::problem_response(err))
}

fn into_http(response: lambda_http::Response<lambda_http::Body>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Bytes::new(),
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

//! The runtime floor: the least a `lambda_http` function can do, answering every invocation with a
//! fixed JSON body. Built with the workspace's release profile, so the benchmarks can say how much
//! of a function's init time and latency is the runtime and how much is the shop.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: Request| async {
        let mut response = Response::new(Body::from(r#"{"hello":"world"}"#));
        response.headers_mut().insert(
            "content-type",
            lambda_http::http::HeaderValue::from_static("application/json"),
        );
        Ok::<_, Error>(response)
    }))
    .await
}

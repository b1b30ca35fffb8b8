//! The local API: every function's handler behind one HTTP server, on an embedded DynamoDB engine.
//!
//! Nothing here is deployed. It exists so that `cargo run -p local` serves the whole API on a
//! machine with only Rust, through the same handlers and the same `lambda_http` request types as
//! Lambda, against a real DynamoDB wire protocol.
//!
//! # Layout
//! - [`routes`]: the route table (method, path, function) and dispatch to each function's handler.
//!   `template.yaml` and the `cargo lambda watch` router in `Cargo.toml` must agree with it; the
//!   tests in `tests/routes.rs` fail when they do not.
//! - [`server`]: the HTTP front door (API Gateway's part): matches a route, builds the payload-2.0
//!   event, calls the handler, returns its response.
//! - [`seed`]: demo products for an empty table.

pub mod routes;
pub mod seed;
pub mod server;

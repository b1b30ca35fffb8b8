//! The HTTP face, the top layer of this crate: request parsing, responses, problem documents
//! ([`ApiError`], [`ProblemKind`]) and the invocation's deadline budget. Handlers stay a few lines
//! of "parse, call the domain and the store, render".
//!
//! It imports every layer below (domain, auth, store, telemetry) and none of them imports it.

mod budget;
mod conflict;
mod kind;
mod paging;
mod problem;
mod request;
mod response;

pub use budget::{BudgetSpent, DEADLINE_MARGIN, budget, within_budget};
pub use conflict::{Conflict, LineProblem};
pub use kind::{PROBLEM_BASE, ProblemKind};
pub use paging::{DEFAULT_LIMIT, MAX_LIMIT, PageRequest, Pager};
pub use problem::{ApiError, BodyOf, Problem};
pub use request::*;
pub use response::*;

use crate::auth::{Authenticator, Caller};

pub const JSON: &str = "application/json";
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The caller of `req` (401 without a valid bearer token, or without the claims of API
/// Gateway's JWT authorizer in that mode), noted for the request's log line.
pub async fn caller(auth: &Authenticator, req: &lambda_http::Request) -> Result<Caller, ApiError> {
    let caller = auth.caller(req.headers(), authorizer_claims(req)).await?;
    crate::telemetry::note_caller(caller.user());
    Ok(caller)
}

/// The claims API Gateway's JWT authorizer put in the request's context, if any.
fn authorizer_claims(
    req: &lambda_http::Request,
) -> Option<&std::collections::HashMap<String, String>> {
    use lambda_http::RequestExt;
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => {
            ctx.authorizer.as_ref()?.jwt.as_ref().map(|jwt| &jwt.claims)
        }
        _ => None,
    }
}

/// As [`caller`], and the caller must be an admin (403 otherwise).
pub async fn admin(auth: &Authenticator, req: &lambda_http::Request) -> Result<Caller, ApiError> {
    let caller = caller(auth, req).await?;
    if caller.is_admin() {
        Ok(caller)
    } else {
        Err(crate::auth::AuthError::NotAdmin.into())
    }
}

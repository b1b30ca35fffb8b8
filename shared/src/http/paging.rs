//! The two list routes' paging, written once: `?limit=` (1 to [`MAX_LIMIT`], default
//! [`DEFAULT_LIMIT`]) and an opaque `?cursor=` sealed for one listing (and, for a user's orders,
//! one user), answered as `{"items": [...], "next_cursor": ...}`.

use super::ApiError;
use super::request::{limit_param, query_param};
use super::response::{json, json_tagged_by_content};
use crate::cursor::CursorCodec;
use crate::domain::{FieldError, Precondition};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

/// Items per page when `?limit=` is absent.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest `?limit=` accepted.
pub const MAX_LIMIT: usize = 100;

/// One listing's cursors: sealed with the deployment's key for `scope`, so a cursor from another
/// listing (or another user's) never opens here.
pub struct Pager<'a> {
    codec: &'a CursorCodec,
    scope: &'a str,
    /// The 400's message for a cursor that does not open.
    refused: &'static str,
}

/// Where a page starts and how long it is.
pub struct PageRequest<P> {
    pub limit: usize,
    /// The position to continue after (the last item of the previous page).
    pub after: Option<P>,
}

#[derive(Serialize)]
struct Listing<'a, T> {
    items: &'a [T],
    next_cursor: Option<String>,
}

impl<'a> Pager<'a> {
    pub fn new(codec: &'a CursorCodec, scope: &'a str, refused: &'static str) -> Self {
        Self {
            codec,
            scope,
            refused,
        }
    }

    /// `?limit=` and `?cursor=`, the cursor's position parsed by `parse`; 400 for a bad limit,
    /// a cursor this listing did not issue, or one whose position does not parse.
    pub fn request<P>(
        &self,
        req: &Request,
        parse: impl Fn(&str) -> Result<P, FieldError>,
    ) -> Result<PageRequest<P>, ApiError> {
        let limit = limit_param(req, DEFAULT_LIMIT, MAX_LIMIT)?;
        let bad_cursor = || ApiError::bad_field(FieldError::new("cursor", self.refused));
        let after = match query_param(req, "cursor")? {
            None => None,
            Some(cursor) => {
                let position = self
                    .codec
                    .open(self.scope, &cursor)
                    .map_err(|_| bad_cursor())?;
                Some(parse(&position).map_err(|_| bad_cursor())?)
            }
        };
        Ok(PageRequest { limit, after })
    }

    /// 200 with `items` and a cursor for the page after `next`, if there is one.
    pub fn respond<T: Serialize>(
        &self,
        items: &[T],
        next: Option<&str>,
    ) -> Result<Response<Body>, ApiError> {
        json(StatusCode::OK, &self.listing(items, next))
    }

    /// As [`Pager::respond`], with a strong `ETag` of the page's bytes: 304 when `precondition`
    /// (`If-None-Match`) names it.
    pub fn respond_tagged<T: Serialize>(
        &self,
        items: &[T],
        next: Option<&str>,
        precondition: &Precondition,
    ) -> Result<Response<Body>, ApiError> {
        json_tagged_by_content(&self.listing(items, next), precondition)
    }

    fn listing<'i, T>(&self, items: &'i [T], next: Option<&str>) -> Listing<'i, T> {
        Listing {
            items,
            next_cursor: next.map(|position| self.codec.seal(self.scope, position)),
        }
    }
}

"""Schemathesis hooks for `.ci/contract` (loaded through SCHEMATHESIS_HOOKS).

1. `entity-tag-list`, the format of `If-Match` / `If-None-Match` in `openapi.yaml` (RFC 9110
   §8.8.3: `*`, or a comma-separated list of `"opaque"` / `W/"opaque"` tags). The schema also
   carries the exact `pattern`; this strategy gives the generator well-formed values, which
   Schemathesis' coverage phase cannot derive from the pattern (it builds header values from
   letters and digits only).
2. `documented_rejections`: `schemathesis.toml` lets a few operations answer a schema-valid request
   with a 400, 412, 422 or 428 that depends on state or on a rule across parameters. This check fails
   such an answer unless it comes for exactly that documented reason.
"""

import json

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

# etagc (RFC 9110): visible ASCII except DQUOTE, commas included.
_ETAG_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != '"')
_opaque = st.text(alphabet=_ETAG_CHARS, max_size=32)
_tag = st.one_of(_opaque.map('"{}"'.format), _opaque.map('W/"{}"'.format))

schemathesis.openapi.format(
    "entity-tag-list",
    st.one_of(st.just("*"), st.lists(_tag, min_size=1, max_size=20).map(", ".join)),
)

_PROBLEM = "tag:stateless-shop,2026:problem:"


def _header(case, name):
    return next((v for k, v in (case.headers or {}).items() if k.lower() == name), None)


def _problem(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return {}


def _cursor_refused(case, problem):
    return "cursor" in (case.query or {}) and [e.get("field") for e in problem.get("errors", [])] == ["cursor"]


def _both_preconditions(case, problem):
    return _header(case, "if-match") is not None and _header(case, "if-none-match") is not None


def _precondition_sent(case, problem):
    return _header(case, "if-match") is not None or _header(case, "if-none-match") is not None


def _overwrite_without_if_match(case, problem):
    # 428 only for a write with no precondition at all over a product that exists.
    return (
        _header(case, "if-match") is None
        and _header(case, "if-none-match") is None
        and problem.get("type") == _PROBLEM + "precondition-required"
    )


def _checkout_state(case, problem):
    return problem.get("type") in (_PROBLEM + "cart-empty", _PROBLEM + "idempotency-key-reused")


# operationId -> status -> why a schema-valid request may get it (as in schemathesis.toml).
_DOCUMENTED = {
    "listProducts": {400: _cursor_refused},
    "listOrders": {400: _cursor_refused},
    "putProduct": {400: _both_preconditions, 412: _precondition_sent, 428: _overwrite_without_if_match},
    "deleteProduct": {412: _precondition_sent},
    "placeOrder": {422: _checkout_state},
}


@schemathesis.check
def documented_rejections(ctx, response, case):
    """A schema-valid request refused with a tuned status must be refused for its documented reason."""
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return None
    reason = _DOCUMENTED.get(case.operation.definition.raw.get("operationId"), {}).get(response.status_code)
    if reason is not None and not reason(case, _problem(response)):
        raise AssertionError(
            f"Schema-valid request rejected with {response.status_code} for an undocumented reason: "
            f"{response.content[:300]!r}"
        )
    return None

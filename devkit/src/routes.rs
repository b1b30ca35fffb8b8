//! The route table: one entry per API Gateway route, each naming the function (binary) that
//! serves it. It belongs to no server: the local API dispatches with it (`local::dispatch`), the
//! harness's front door routes with it, and chaos and bench list the functions from it.
//! `template.yaml`, `openapi.yaml`, the `cargo lambda watch` router in `Cargo.toml` and the
//! `FUNCTIONS` of `.ci/run` must agree with it; the tests in `local/tests/routes.rs` and
//! `local/tests/openapi.rs` fail when they do not. `local::dispatch` and the bench's workloads match
//! on [`Function`] exhaustively, so a new function does not compile until both know it.
//! `docs/add-an-endpoint.md` lists every file a new function touches.

/// Declares [`Function`], [`Function::ALL`] and [`Function::binary`] from one list, so no variant
/// can be missing from `ALL` or lack a binary name.
macro_rules! functions {
    ($($variant:ident => $binary:literal,)+) => {
        /// A function of this project (one Lambda binary), by the name of its binary.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Function {
            $($variant,)+
        }

        impl Function {
            /// Every function, once, in the order declared.
            pub const ALL: &'static [Function] = &[$(Self::$variant,)+];

            /// The binary's name: its crate under `functions/`, its `Binary` in `template.yaml`.
            pub fn binary(self) -> &'static str {
                match self {
                    $(Self::$variant => $binary,)+
                }
            }
        }
    };
}

functions! {
    ListProducts => "list-products",
    GetProduct => "get-product",
    PutProduct => "put-product",
    DeleteProduct => "delete-product",
    GetCart => "get-cart",
    PutCartItem => "put-cart-item",
    DeleteCartItem => "delete-cart-item",
    PlaceOrder => "place-order",
    ListOrders => "list-orders",
    GetOrder => "get-order",
    CancelOrder => "cancel-order",
}

impl Function {
    /// Whether its routes take no token (the catalog's reads). Every other function's routes
    /// need one: on AWS they carry the JWT authorizer when `AuthMode` is `authorizer`, and its
    /// `main` runs with `Bearer`.
    pub fn public(self) -> bool {
        matches!(self, Self::ListProducts | Self::GetProduct)
    }

    /// The function whose binary is `name`.
    pub fn from_binary(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.binary() == name)
    }
}

/// One route: `method path` → function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
}

/// Every route of the API, in the order of `template.yaml`.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/products",
        function: Function::ListProducts,
    },
    Route {
        method: "GET",
        path: "/products/{id}",
        function: Function::GetProduct,
    },
    Route {
        method: "PUT",
        path: "/products/{id}",
        function: Function::PutProduct,
    },
    Route {
        method: "DELETE",
        path: "/products/{id}",
        function: Function::DeleteProduct,
    },
    Route {
        method: "GET",
        path: "/cart",
        function: Function::GetCart,
    },
    Route {
        method: "PUT",
        path: "/cart/items/{product_id}",
        function: Function::PutCartItem,
    },
    Route {
        method: "DELETE",
        path: "/cart/items/{product_id}",
        function: Function::DeleteCartItem,
    },
    Route {
        method: "POST",
        path: "/orders",
        function: Function::PlaceOrder,
    },
    Route {
        method: "GET",
        path: "/orders",
        function: Function::ListOrders,
    },
    Route {
        method: "GET",
        path: "/orders/{id}",
        function: Function::GetOrder,
    },
    Route {
        method: "POST",
        path: "/orders/{id}/cancel",
        function: Function::CancelOrder,
    },
];

/// Every function's binary once, in the order of the route table.
pub fn binaries() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for route in ROUTES {
        let binary = route.function.binary();
        if !all.contains(&binary) {
            all.push(binary);
        }
    }
    all
}

/// What the router decided for a method and path.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Found(Route),
    /// The path exists, with other methods.
    WrongMethod {
        allow: Vec<&'static str>,
    },
    NotFound,
}

/// Finds the route for `method path`.
pub fn resolve(method: &str, path: &str) -> Resolved {
    let matching: Vec<&Route> = ROUTES
        .iter()
        .filter(|r| crate::apigw::match_route(r.path, path).is_some())
        .collect();
    if let Some(route) = matching.iter().find(|r| r.method == method) {
        return Resolved::Found(**route);
    }
    if matching.is_empty() {
        Resolved::NotFound
    } else {
        Resolved::WrongMethod {
            allow: matching.iter().map(|r| r.method).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binary_once_in_route_order() {
        let binaries = binaries();
        assert_eq!(binaries.len(), Function::ALL.len());
        assert_eq!(binaries[0], "list-products");
        let mut unique = binaries.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), binaries.len());
    }

    /// `Function::ALL` and the route table name the same functions: every function has a route,
    /// every route's function is in `ALL`; and each binary name is a distinct kebab-case name.
    #[test]
    fn every_function_has_a_route_and_every_route_a_listed_function() {
        for route in ROUTES {
            assert!(
                Function::ALL.contains(&route.function),
                "{:?} is routed but missing from Function::ALL",
                route.function
            );
        }
        for function in Function::ALL {
            assert!(
                ROUTES.iter().any(|r| r.function == *function),
                "{function:?} has no route in ROUTES"
            );
            let name = function.binary();
            assert!(
                !name.is_empty()
                    && name
                        .split('-')
                        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{name}: a binary name is lower-case words joined by '-'"
            );
            assert_eq!(Function::from_binary(name), Some(*function));
        }
        let mut names: Vec<&str> = Function::ALL.iter().map(|f| f.binary()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            Function::ALL.len(),
            "binary names are distinct"
        );
        assert_eq!(Function::from_binary("no-such-function"), None);
    }

    #[test]
    fn resolves_routes_methods_and_misses() {
        assert!(
            matches!(resolve("GET", "/products/p1"), Resolved::Found(r) if r.function == Function::GetProduct)
        );
        assert!(
            matches!(resolve("PUT", "/products/p1"), Resolved::Found(r) if r.function == Function::PutProduct)
        );
        assert!(
            matches!(resolve("GET", "/products"), Resolved::Found(r) if r.function == Function::ListProducts)
        );
        assert_eq!(
            resolve("POST", "/products/p1"),
            Resolved::WrongMethod {
                allow: vec!["GET", "PUT", "DELETE"]
            }
        );
        assert_eq!(resolve("GET", "/nope"), Resolved::NotFound);
    }
}

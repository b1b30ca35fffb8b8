//! The route table: one entry per API Gateway route, each naming the function (binary) that
//! serves it. It belongs to no server: the local API dispatches with it (`local::dispatch`), the
//! harness's front door routes with it, and chaos and bench list the functions from it.
//! `template.yaml`, `openapi.yaml` and the `cargo lambda watch` router in `Cargo.toml` must agree
//! with it; the tests in `local/tests/routes.rs` and `local/tests/openapi.rs` fail when they do not.

/// A function of this project (one Lambda binary), by the name of its binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    ListProducts,
    GetProduct,
    PutProduct,
    DeleteProduct,
    GetCart,
    PutCartItem,
    DeleteCartItem,
    PlaceOrder,
    ListOrders,
    GetOrder,
    CancelOrder,
}

impl Function {
    /// The binary's name: its crate under `functions/`, its `Binary` in `template.yaml`.
    pub fn binary(self) -> &'static str {
        match self {
            Self::ListProducts => "list-products",
            Self::GetProduct => "get-product",
            Self::PutProduct => "put-product",
            Self::DeleteProduct => "delete-product",
            Self::GetCart => "get-cart",
            Self::PutCartItem => "put-cart-item",
            Self::DeleteCartItem => "delete-cart-item",
            Self::PlaceOrder => "place-order",
            Self::ListOrders => "list-orders",
            Self::GetOrder => "get-order",
            Self::CancelOrder => "cancel-order",
        }
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
        assert_eq!(binaries.len(), 11);
        assert_eq!(binaries[0], "list-products");
        let mut unique = binaries.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), binaries.len());
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

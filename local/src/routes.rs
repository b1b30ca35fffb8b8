//! The route table: one entry per API Gateway route, each naming the function that serves it.

use lambda_http::{Body, Request, Response};
use shared::auth::Authenticator;
use shared::{App, DynamoStore};

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

    /// Calls this function's own handler, as its `main` does on Lambda.
    pub async fn invoke(
        self,
        app: &App<DynamoStore>,
        auth: &Authenticator,
        req: Request,
    ) -> Response<Body> {
        let result = match self {
            Self::ListProducts => list_products::handle(app, req).await,
            Self::GetProduct => get_product::handle(app, req).await,
            Self::PutProduct => put_product::handle(app, auth, req).await,
            Self::DeleteProduct => delete_product::handle(app, auth, req).await,
            Self::GetCart => get_cart::handle(app, auth, req).await,
            Self::PutCartItem => put_cart_item::handle(app, auth, req).await,
            Self::DeleteCartItem => delete_cart_item::handle(app, auth, req).await,
            Self::PlaceOrder => place_order::handle(app, auth, req).await,
            Self::ListOrders => list_orders::handle(app, auth, req).await,
            Self::GetOrder => get_order::handle(app, auth, req).await,
            Self::CancelOrder => cancel_order::handle(app, auth, req).await,
        };
        match result {
            Ok(response) => response,
            Err(never) => match never {},
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
        .filter(|r| devkit::apigw::match_route(r.path, path).is_some())
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

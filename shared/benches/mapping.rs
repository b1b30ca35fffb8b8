//! The hot path around one DynamoDB call, without the call: mapping a stored item to a product
//! (every read), and rendering the response a handler returns (a product with its ETag, a page of
//! twenty, a problem document).
//!
//! `cargo bench -p shared --bench mapping`

use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::http::StatusCode;
use shared::ApiError;
use shared::domain::{EntityTag, Product, ProductId, Versioned};
use shared::store::bench_support::{decode, stored};
use std::hint::black_box;

fn product(i: usize) -> Versioned<Product> {
    Versioned {
        value: Product {
            id: ProductId::parse(&format!("product-{i:03}")).expect("a valid id"),
            name: "Espresso cup".into(),
            description: "Stoneware, 80 ml, dishwasher safe.".into(),
            price: shared::domain::Money::from_minor(900).expect("a price"),
            currency: shared::domain::Currency::default(),
            stock: 120,
            stock_buckets: 1,
            version: 7,
            updated_at: shared::domain::Timestamp::parse("2026-11-26T08:00:00.000Z")
                .expect("an instant"),
        },
        etag: EntityTag::from_stored("\"0196b3a2-6c1e-7d4f\"".into()),
    }
}

fn bench(c: &mut Criterion) {
    let one = product(1);
    let item = stored(&one).expect("maps");
    assert_eq!(
        decode(item.clone()).expect("decodes"),
        one,
        "the mapping round-trips"
    );
    c.bench_function("decode one product item", |b| {
        b.iter(|| decode(black_box(item.clone())))
    });
    c.bench_function("encode one product item", |b| {
        b.iter(|| stored(black_box(&one)))
    });

    c.bench_function("render GET /products/{id} (JSON + ETag)", |b| {
        b.iter(|| shared::http::json_with_etag(StatusCode::OK, black_box(&one.value), &one.etag))
    });
    // As list-products renders its page: borrowed products, no intermediate JSON value.
    #[derive(serde::Serialize)]
    struct Listing<'a> {
        items: Vec<&'a Product>,
        next_cursor: Option<&'a str>,
    }
    let page: Vec<Versioned<Product>> = (0..20).map(product).collect();
    c.bench_function("render a page of 20 products", |b| {
        b.iter(|| {
            let listing = Listing {
                items: page.iter().map(|p| &p.value).collect(),
                next_cursor: Some("opaque"),
            };
            shared::http::json(StatusCode::OK, black_box(&listing))
        })
    });
    let problem = ApiError::NotFound("no product has id product-404".into());
    c.bench_function("render a 404 problem document", |b| {
        b.iter(|| shared::http::problem_response(black_box(&problem)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! `domain::commit`'s outcomes, each reached with no engine.

use super::*;
use crate::domain::{Currency, Money, Timestamp};

fn m(minor: i64) -> Money {
    Money::from_minor(minor).expect("non-negative")
}
use crate::domain::{OrderId, OrderLine, OrderStatus, Quantity};

fn order(lines: &[(&str, u32, i64)]) -> Order {
    let items = lines
        .iter()
        .map(|&(id, quantity, price)| OrderLine {
            product_id: ProductId::parse(id).expect("id"),
            name: id.into(),
            quantity: Quantity::new(quantity).expect("quantity"),
            unit_price: m(price),
            line_total: m(price * i64::from(quantity)),
        })
        .collect();
    Order {
        id: OrderId::new(),
        items,
        total: Money::ZERO,
        currency: Currency::default(),
        status: OrderStatus::Placed,
        created_at: Timestamp::now(),
        cancelled_at: None,
    }
}

fn split(order: &Order, k: u32) -> HashMap<ProductId, u32> {
    order
        .items
        .iter()
        .map(|l| (l.product_id.clone(), k))
        .collect()
}

fn counter() -> impl FnMut() -> u64 {
    let mut n = 0;
    move || {
        n += 1;
        n
    }
}

/// Every action passed but the one `fail` picks, which gets `answer`.
fn answered(
    plan: &[Action],
    fail: impl Fn(&Action) -> bool,
    answer: Answer<HeldStock>,
) -> Vec<(Action, Answer<HeldStock>)> {
    plan.iter()
        .map(|a| {
            (
                *a,
                if fail(a) {
                    answer.clone()
                } else {
                    Answer::Passed
                },
            )
        })
        .collect()
}

fn held(price: i64, stock: i64, buckets: u32) -> Option<HeldStock> {
    Some(HeldStock {
        held: Held {
            price: m(price),
            stock,
        },
        buckets,
    })
}

/// Picks the actions of one role.
type Role = fn(&Action) -> bool;

fn is_stock(a: &Action) -> bool {
    matches!(a, Action::TakeStock { .. })
}

#[test]
fn the_plan_names_every_write_once_with_a_draw_per_line() {
    let o = order(&[("a", 2, 100), ("b", 1, 50)]);
    let draws = Draws::new(&o, &HashMap::new(), counter());
    let plan = draws.plan(&o, 7, 5).expect("fits");
    assert_eq!(
        plan,
        vec![
            Action::TakeStock {
                line: 0,
                bucket: 0,
                quantity: 2
            },
            Action::TakeStock {
                line: 1,
                bucket: 0,
                quantity: 1
            },
            Action::PlaceOrder,
            Action::EmptyCart { version: 7 },
            Action::RecordKey,
            Action::CountOpen { cap: 5 },
        ]
    );
}

#[test]
fn the_fixed_writes_fail_as_their_roles_whatever_their_place() {
    let o = order(&[("a", 1, 100)]);
    let draws = Draws::new(&o, &HashMap::new(), counter());
    let mut plan = draws.plan(&o, 1, 5).expect("fits");
    for _ in 0..2 {
        let cases: [(Role, Next); 3] = [
            (|a| *a == Action::RecordKey, Next::KeyTaken),
            (|a| matches!(a, Action::EmptyCart { .. }), Next::CartChanged),
            (|a| matches!(a, Action::CountOpen { .. }), Next::CapReached),
        ];
        for (fail, next) in cases {
            let a = answered(&plan, fail, Answer::Failed(None));
            assert_eq!(draws.decide(&o, &a), next);
        }
        // The same answers in another order mean the same.
        plan.reverse();
    }
    let all_passed = answered(&plan, |_| false, Answer::Passed);
    assert_eq!(draws.decide(&o, &all_passed), Next::Unexplained);
    let conflict = answered(&plan, is_stock, Answer::Other("TransactionConflict".into()));
    assert_eq!(draws.decide(&o, &conflict), Next::Unexplained);
}

#[test]
fn a_taken_key_wins_over_a_failed_line_and_a_failed_line_over_the_cart() {
    let o = order(&[("a", 1, 100)]);
    let draws = Draws::new(&o, &HashMap::new(), counter());
    let plan = draws.plan(&o, 1, 5).expect("fits");
    let mut a = answered(
        &plan,
        |a| matches!(a, Action::RecordKey | Action::EmptyCart { .. }),
        Answer::Failed(None),
    );
    assert_eq!(draws.decide(&o, &a), Next::KeyTaken);
    a = answered(
        &plan,
        |a| is_stock(a) || matches!(a, Action::EmptyCart { .. }),
        Answer::Failed(held(100, 0, 1)),
    );
    assert!(matches!(draws.decide(&o, &a), Next::Lines { .. }));
}

#[test]
fn a_line_on_one_item_is_refused_by_the_checkout_rule() {
    let o = order(&[("a", 3, 100)]);
    let draws = Draws::new(&o, &HashMap::new(), counter());
    let plan = draws.plan(&o, 1, 5).expect("fits");
    let reason = |h: Option<HeldStock>| match draws
        .decide(&o, &answered(&plan, is_stock, Answer::Failed(h)))
    {
        Next::Lines { rejected, redraw } => {
            assert!(
                redraw.is_empty(),
                "one item holds the stock: nothing to draw"
            );
            assert_eq!(rejected.len(), 1);
            rejected[0].reason.clone()
        }
        other => panic!("expected refused lines, got {other:?}"),
    };
    assert_eq!(reason(None), LineReason::Missing);
    assert_eq!(reason(held(100, 2, 1)), LineReason::Short { available: 2 });
    assert_eq!(
        reason(held(120, 9, 1)),
        LineReason::PriceChanged { price: m(120) }
    );
    // The condition failed, yet the item passes now: it changed back in between.
    assert_eq!(
        reason(held(100, 9, 1)),
        LineReason::PriceChanged { price: m(100) }
    );
}

#[test]
fn a_short_bucket_or_a_new_split_is_drawn_again_and_a_new_price_refused() {
    let o = order(&[("a", 3, 100)]);
    let split_draws = Draws::new(&o, &split(&o, 4), counter());
    let plan = split_draws.plan(&o, 1, 5).expect("fits");
    let next = |draws: &Draws, h| draws.decide(&o, &answered(&plan, is_stock, Answer::Failed(h)));
    let again = Next::Lines {
        rejected: vec![],
        redraw: vec![0],
    };
    assert_eq!(next(&split_draws, held(100, 1, 0)), again, "a short bucket");
    assert_eq!(next(&split_draws, None), again, "a bucket gone");
    let single = Draws::new(&o, &HashMap::new(), counter());
    assert_eq!(
        next(&single, held(100, 1, 8)),
        again,
        "the product was split since it was read"
    );
    match next(&split_draws, held(150, 9, 0)) {
        Next::Lines { rejected, redraw } => {
            assert!(redraw.is_empty());
            assert_eq!(
                rejected[0].reason,
                LineReason::PriceChanged { price: m(150) }
            );
        }
        other => panic!("expected a refused line, got {other:?}"),
    }
}

#[test]
fn throttling_alone_moves_a_line_to_another_bucket() {
    let o = order(&[("a", 1, 100), ("b", 1, 100)]);
    let mut draws = Draws::new(&o, &split(&o, 4), counter());
    let plan = draws.plan(&o, 1, 5).expect("fits");
    let throttled = answered(
        &plan,
        |a| matches!(a, Action::TakeStock { line: 0, .. }),
        Answer::Throttled,
    );
    assert_eq!(draws.decide(&o, &throttled), Next::Throttled);
    let before = draws.plan(&o, 1, 5).expect("fits");
    draws.avoid_throttled(&throttled, counter());
    let after = draws.plan(&o, 1, 5).expect("fits");
    assert_ne!(before[0], after[0], "the throttled line moved");
    assert_eq!(before[1], after[1], "the other line stayed");
    // Throttled, but a condition failed too: the condition decides.
    let mut both = throttled.clone();
    both[1].1 = Answer::Failed(held(100, 0, 0));
    assert!(matches!(draws.decide(&o, &both), Next::Lines { .. }));
}

#[test]
fn a_redraw_takes_a_bucket_with_enough_or_refuses_with_the_sum() {
    let o = order(&[("a", 5, 100)]);
    let mut draws = Draws::new(&o, &HashMap::new(), counter());
    assert!(draws.start_redraw(0));
    assert!(!draws.start_redraw(0));
    assert_eq!(draws.draw_again(&o, 0, &[1, 6, 2], 0), None);
    assert_eq!(draws.spread(0), 3);
    assert_eq!(
        draws.plan(&o, 1, 5).expect("fits")[0],
        Action::TakeStock {
            line: 0,
            bucket: 1,
            quantity: 5
        }
    );
    assert_eq!(
        draws.draw_again(&o, 0, &[1, 2, 1], 0),
        Some(LineRejection {
            product_id: o.items[0].product_id.clone(),
            requested: o.items[0].quantity,
            reason: LineReason::Short { available: 4 },
        })
    );
    assert_eq!(Draws::gone(&o, 0).reason, LineReason::Missing);
}

#[test]
fn draws_past_one_transaction_are_refused_with_the_fullest_bucket() {
    let lines: Vec<(String, u32, i64)> = (0..7).map(|i| (format!("p{i}"), 99, 1)).collect();
    let refs: Vec<(&str, u32, i64)> = lines.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let o = order(&refs);
    let mut draws = Draws::new(&o, &split(&o, 16), counter());
    // Each line spread thinly over 16 buckets: 7 × 16 stock writes and 4 more.
    for line in 0..7 {
        assert_eq!(draws.draw_again(&o, line, &[7; 16], 0), None);
    }
    let refused = draws.plan(&o, 1, 5).expect_err("over 100 actions");
    assert_eq!(refused.len(), 7);
    assert!(
        refused
            .iter()
            .all(|r| r.reason == LineReason::Short { available: 7 })
    );
}

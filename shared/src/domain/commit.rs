//! A checkout's one transaction as a plan: the writes it makes, each tagged by its role
//! ([`Action`]), where each line takes its stock from ([`Draws`]), and what DynamoDB's answer to a
//! cancelled transaction means ([`Draws::decide`]). No I/O: the store turns each action into a
//! write and each cancellation reason into an [`Answer`] beside its action; this module decides.
//!
//! Outcomes are read by role, never by position: reordering the plan cannot map a failure to the
//! wrong outcome, and every outcome is reachable from a unit test with no engine.

use super::checkout::{Held, LineReason, LineRejection, check_line};
use super::{Order, ProductId, stock};
use std::collections::HashMap;

/// Most actions DynamoDB takes in one transaction.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;
/// Rounds of drawing a checkout's lines again after a bucket turned out short.
pub const DRAW_ROUNDS: usize = 12;

/// One write of a checkout's transaction, by what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Take `quantity` of line `line`'s product from its bucket `bucket` (0: the product item),
    /// only if the price is still the line's and the bucket holds that many.
    TakeStock {
        line: usize,
        bucket: usize,
        quantity: u32,
    },
    /// Write the order, only if no order has its id.
    PlaceOrder,
    /// Empty the cart, only if it is still the version that was priced.
    EmptyCart { version: u64 },
    /// Record the idempotency key with the order, only if the key has no live record.
    RecordKey,
    /// Count the order among the user's open ones, only if fewer than `cap` are.
    CountOpen { cap: u32 },
}

/// How DynamoDB answered one action of a cancelled transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// Its condition held: another action cancelled the transaction.
    Passed,
    /// Its condition failed; the item as it was then (`None`: there was none, or the role does
    /// not read it).
    Failed(Option<T>),
    /// Its partition was over its capacity.
    Throttled,
    /// Anything else (a conflict with another transaction in flight, say): DynamoDB's code.
    Other(String),
}

impl<T> Answer<T> {
    fn failed(&self) -> bool {
        matches!(self, Self::Failed(_))
    }

    /// The same answer, with the item a failed condition returned as `f` reads it.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        match self {
            Self::Passed => Answer::Passed,
            Self::Failed(item) => Answer::Failed(item.map(f)),
            Self::Throttled => Answer::Throttled,
            Self::Other(code) => Answer::Other(code),
        }
    }
}

/// What the item a failed stock condition was on held: the product item, or one of its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldStock {
    pub held: Held,
    /// How many buckets the product item says the stock is split over (0 on a bucket item, which
    /// is never a product's only one).
    pub buckets: u32,
}

/// What to do after DynamoDB cancelled the checkout's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Only throttling: move the lines drawn from a throttled bucket ([`Draws::avoid_throttled`]),
    /// pause, and send again.
    Throttled,
    /// The key has a record already: a duplicate won. Read it and replay.
    KeyTaken,
    /// The cart changed after it was priced.
    CartChanged,
    /// The user already holds the most open orders allowed.
    CapReached,
    /// Refuse `rejected`; read the buckets of the lines `redraw` names and draw them again
    /// ([`Draws::draw_again`]). Nothing refused after that: send again.
    Lines {
        rejected: Vec<LineRejection>,
        redraw: Vec<usize>,
    },
    /// No condition explains the cancellation: a bug, or DynamoDB said something new.
    Unexplained,
}

/// Where each line of a checkout takes its stock from: `(bucket, quantity)` per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draws {
    /// How many buckets each line's product is split over, as last known.
    spread: Vec<u32>,
    from: Vec<Vec<(usize, u32)>>,
    /// How many times each line was drawn again.
    redrawn: Vec<u32>,
    /// The most one bucket of each line's product held at its last read (0 before any).
    fullest: Vec<i64>,
}

impl Draws {
    /// One bucket per line, picked at random (`random` yields any random numbers), without a
    /// read: `buckets` is each product's split as planned (absent: 1).
    pub fn new(
        order: &Order,
        buckets: &HashMap<ProductId, u32>,
        mut random: impl FnMut() -> u64,
    ) -> Self {
        let spread: Vec<u32> = order
            .items
            .iter()
            .map(|l| buckets.get(&l.product_id).copied().unwrap_or(1).max(1))
            .collect();
        let from = order
            .items
            .iter()
            .zip(&spread)
            .map(|(l, &k)| vec![(stock::pick(k, random()), l.quantity.get())])
            .collect();
        Self {
            redrawn: vec![0; spread.len()],
            fullest: vec![0; spread.len()],
            spread,
            from,
        }
    }

    /// The transaction's actions: every draw's stock, in line order, then the order, the cart,
    /// the key and the count. `Err` with the lines drawn from several buckets when the draws
    /// need more actions than one transaction holds: each is refused with what its fullest
    /// bucket held, so the client can order that much (a retry would draw the same).
    pub fn plan(
        &self,
        order: &Order,
        cart_version: u64,
        cap: u32,
    ) -> Result<Vec<Action>, Vec<LineRejection>> {
        let mut plan: Vec<Action> = self
            .from
            .iter()
            .enumerate()
            .flat_map(|(line, from)| {
                from.iter()
                    .map(move |&(bucket, quantity)| Action::TakeStock {
                        line,
                        bucket,
                        quantity,
                    })
            })
            .collect();
        plan.extend([
            Action::PlaceOrder,
            Action::EmptyCart {
                version: cart_version,
            },
            Action::RecordKey,
            Action::CountOpen { cap },
        ]);
        if plan.len() > MAX_TRANSACTION_ACTIONS {
            return Err(self.too_spread(order));
        }
        Ok(plan)
    }

    fn too_spread(&self, order: &Order) -> Vec<LineRejection> {
        order
            .items
            .iter()
            .enumerate()
            .filter(|(at, _)| self.from[*at].len() > 1)
            .map(|(at, line)| LineRejection {
                product_id: line.product_id.clone(),
                requested: line.quantity,
                reason: LineReason::Short {
                    available: self.fullest[at],
                },
            })
            .collect()
    }

    /// What the cancellation `answered` (each action beside DynamoDB's answer for it) means.
    pub fn decide(&self, order: &Order, answered: &[(Action, Answer<HeldStock>)]) -> Next {
        let failed = |wanted: fn(&Action) -> bool| {
            answered
                .iter()
                .any(|(action, answer)| wanted(action) && answer.failed())
        };
        // Over a partition's capacity, and no condition failed: sending the same again would
        // wait for that bucket while the others idle.
        if answered.iter().any(|(_, a)| *a == Answer::Throttled) && !failed(|_| true) {
            return Next::Throttled;
        }
        if failed(|a| *a == Action::RecordKey) {
            return Next::KeyTaken;
        }
        let mut rejected: Vec<LineRejection> = Vec::new();
        let mut redraw = Vec::new();
        for (action, answer) in answered {
            let (Action::TakeStock { line: at, .. }, Answer::Failed(held)) = (action, answer)
            else {
                continue;
            };
            let line = &order.items[*at];
            let now_split = held.is_some_and(|h| h.buckets > 1);
            let reason = if self.spread[*at] == 1 && !now_split {
                // One item holds all the stock: judged by the rule checkout planned with. The
                // condition failed, so the line is refused whatever the rule says: an item that
                // passes it now changed back in between (then its price is what to look at).
                Some(
                    check_line(line, held.map(|h| h.held)).unwrap_or(LineReason::PriceChanged {
                        price: held.map_or(line.unit_price, |h| h.held.price),
                    }),
                )
            } else {
                // A bucket: its price changed, or it is short, or (no item) the product is gone
                // or an admin split it anew: then read the buckets and draw again.
                held.filter(|h| h.held.price != line.unit_price)
                    .map(|h| LineReason::PriceChanged {
                        price: h.held.price,
                    })
            };
            match reason {
                Some(reason) => rejected.push(LineRejection {
                    product_id: line.product_id.clone(),
                    requested: line.quantity,
                    reason,
                }),
                None => redraw.push(*at),
            }
        }
        if rejected.is_empty() && redraw.is_empty() {
            if failed(|a| matches!(a, Action::EmptyCart { .. })) {
                return Next::CartChanged;
            }
            if failed(|a| matches!(a, Action::CountOpen { .. })) {
                return Next::CapReached;
            }
            return Next::Unexplained;
        }
        redraw.dedup();
        // A line already refused (its price changed on one bucket) is not drawn again.
        redraw.retain(|&at| {
            !rejected
                .iter()
                .any(|r| r.product_id == order.items[at].product_id)
        });
        Next::Lines { rejected, redraw }
    }

    /// Moves each line drawn from one bucket that `answered` says was over its capacity to
    /// another bucket of its product, picked at random (so likely one with room).
    pub fn avoid_throttled(
        &mut self,
        answered: &[(Action, Answer<HeldStock>)],
        mut random: impl FnMut() -> u64,
    ) {
        for (action, answer) in answered {
            let (Action::TakeStock { line, bucket, .. }, Answer::Throttled) = (action, answer)
            else {
                continue;
            };
            if self.spread[*line] > 1 && self.from[*line].len() == 1 {
                let quantity = self.from[*line][0].1;
                self.from[*line] = vec![(
                    stock::pick_other(self.spread[*line], *bucket, random()),
                    quantity,
                )];
            }
        }
    }

    /// How many buckets line `line`'s product is split over, as last known.
    pub fn spread(&self, line: usize) -> u32 {
        self.spread[line]
    }

    /// Counts a redraw of line `line`; `true` the first time. The first read may be eventually
    /// consistent (the transaction re-checks); later ones must not, so a stale read cannot repeat.
    pub fn start_redraw(&mut self, line: usize) -> bool {
        self.redrawn[line] += 1;
        self.redrawn[line] == 1
    }

    /// Draws line `line` again from buckets read to hold `stocks` now (the product's whole
    /// split), `None` when it is drawn; else its refusal: all of them together hold too little.
    pub fn draw_again(
        &mut self,
        order: &Order,
        line: usize,
        stocks: &[i64],
        random: u64,
    ) -> Option<LineRejection> {
        let wanted = &order.items[line];
        self.spread[line] = u32::try_from(stocks.len()).unwrap_or(u32::MAX).max(1);
        self.fullest[line] = stocks.iter().copied().max().unwrap_or(0);
        match stock::choose(stocks, wanted.quantity.get(), random) {
            Some(from) => {
                self.from[line] = from;
                None
            }
            None => Some(LineRejection {
                product_id: wanted.product_id.clone(),
                requested: wanted.quantity,
                reason: LineReason::Short {
                    available: stocks.iter().sum(),
                },
            }),
        }
    }

    /// Line `line`'s refusal when a consistent read found its product gone.
    pub fn gone(order: &Order, line: usize) -> LineRejection {
        LineRejection {
            product_id: order.items[line].product_id.clone(),
            requested: order.items[line].quantity,
            reason: LineReason::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderId, OrderLine, OrderStatus, Quantity};

    fn order(lines: &[(&str, u32, i64)]) -> Order {
        let items = lines
            .iter()
            .map(|&(id, quantity, price)| OrderLine {
                product_id: ProductId::parse(id).expect("id"),
                name: id.into(),
                quantity: Quantity::new(quantity).expect("quantity"),
                unit_price: price,
                line_total: price * i64::from(quantity),
            })
            .collect();
        Order {
            id: OrderId::new(),
            items,
            total: 0,
            currency: "EUR".into(),
            status: OrderStatus::Placed,
            created_at: "2026-12-07T00:00:00Z".into(),
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
            held: Held { price, stock },
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
            LineReason::PriceChanged { price: 120 }
        );
        // The condition failed, yet the item passes now: it changed back in between.
        assert_eq!(
            reason(held(100, 9, 1)),
            LineReason::PriceChanged { price: 100 }
        );
    }

    #[test]
    fn a_short_bucket_or_a_new_split_is_drawn_again_and_a_new_price_refused() {
        let o = order(&[("a", 3, 100)]);
        let split_draws = Draws::new(&o, &split(&o, 4), counter());
        let plan = split_draws.plan(&o, 1, 5).expect("fits");
        let next =
            |draws: &Draws, h| draws.decide(&o, &answered(&plan, is_stock, Answer::Failed(h)));
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
                assert_eq!(rejected[0].reason, LineReason::PriceChanged { price: 150 });
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
        let refs: Vec<(&str, u32, i64)> =
            lines.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
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
}

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
#[path = "commit_tests.rs"]
mod tests;

//! Cancelling an order as a plan: the writes of its one transaction, each tagged by its role
//! ([`CancelAction`]), and what DynamoDB's answer to a cancelled transaction means
//! ([`Cancel::decide`]). No I/O; the store sends the plan and hands back each answer beside its
//! action.
//!
//! What a cancel learns from a failed round, it keeps: a product deleted since the order was
//! placed gets no stock back, and an order from before the open-order counter gives no place
//! back. Each round settles at least one of those, so [`Cancel::rounds`] of them suffice.

use super::commit::Answer;
use super::{Order, OrderStatus, ProductId};
use std::collections::BTreeMap;

/// One write of a cancel's transaction, by what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelAction {
    /// Mark the order cancelled, only if it is placed and, when `counted`, took a place in the
    /// user's count of open orders (else: only if it carries no such marker, an older order).
    MarkCancelled { counted: bool },
    /// Give the order's place in the count of open orders back, only if the count is above 0.
    FreePlace,
    /// Give `quantity` back to the product (its product item, which exists for as long as the
    /// product does, so no read of its split is needed), only if it still exists.
    GiveBack { product: ProductId, quantity: i64 },
}

/// What to do after DynamoDB cancelled the cancel's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelNext {
    /// The plan changed with what was learned: send it again.
    Again,
    /// The order is not placed (cancelled already): nothing to do.
    NotPlaced,
    /// The order's marker changed between two rounds, or no condition explains the
    /// cancellation: a bug, or DynamoDB said something new.
    Unexplained,
}

/// The order's place in the user's count of open orders, as far as the cancel knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The order took one (it carries the marker): give it back.
    Taken,
    /// It took one, but the count is already at 0 (which a consistent table never shows):
    /// nothing to give back.
    CountEmpty,
    /// An order from before the counter: it took none.
    NeverTaken,
}

/// How sure the cancel is of the order's marker: assumed until its condition says otherwise,
/// and learned at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Assumed,
    Learned,
}

/// A cancel in progress: what it gives back, and what it has learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancel {
    /// Units per product, in product id order (so two cancels lock items in the same order).
    give_back: BTreeMap<ProductId, i64>,
    place: Place,
    marker: Marker,
}

impl Cancel {
    pub fn new(order: &Order) -> Self {
        let mut give_back = BTreeMap::new();
        for line in &order.items {
            *give_back.entry(line.product_id.clone()).or_default() +=
                i64::from(line.quantity.get());
        }
        Self {
            give_back,
            place: Place::Taken,
            marker: Marker::Assumed,
        }
    }

    /// Most rounds a cancel of `order` takes: each settles a product, the count or the marker.
    pub fn rounds(order: &Order) -> usize {
        order.items.len() + 3
    }

    /// This round's actions.
    pub fn plan(&self) -> Vec<CancelAction> {
        let mut plan = vec![CancelAction::MarkCancelled {
            counted: self.place != Place::NeverTaken,
        }];
        if self.place == Place::Taken {
            plan.push(CancelAction::FreePlace);
        }
        plan.extend(
            self.give_back
                .iter()
                .map(|(product, &quantity)| CancelAction::GiveBack {
                    product: product.clone(),
                    quantity,
                }),
        );
        plan
    }

    /// What the cancellation `answered` (each action beside DynamoDB's answer for it, the
    /// marker's with the order's status as it was) means; learns what it can for the next round.
    pub fn decide(&mut self, answered: &[(CancelAction, Answer<OrderStatus>)]) -> CancelNext {
        for (action, answer) in answered {
            if let (CancelAction::MarkCancelled { .. }, Answer::Failed(status)) = (action, answer) {
                if *status != Some(OrderStatus::Placed) {
                    return CancelNext::NotPlaced;
                }
                // Placed, but the marker is not what was assumed: an order from before the
                // counter (or after it, on the second try). Try once with the other condition.
                if self.marker == Marker::Learned {
                    return CancelNext::Unexplained;
                }
                self.marker = Marker::Learned;
                self.place = match self.place {
                    Place::NeverTaken => Place::Taken,
                    Place::Taken | Place::CountEmpty => Place::NeverTaken,
                };
                return CancelNext::Again;
            }
        }
        let mut learned = false;
        for (action, answer) in answered {
            match (action, answer) {
                (CancelAction::FreePlace, Answer::Failed(_)) => {
                    self.place = Place::CountEmpty;
                    learned = true;
                }
                (CancelAction::GiveBack { product, .. }, Answer::Failed(_)) => {
                    self.give_back.remove(product);
                    learned = true;
                }
                _ => {}
            }
        }
        if learned {
            CancelNext::Again
        } else {
            CancelNext::Unexplained
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Money, OrderId, OrderLine, Quantity, Timestamp};

    fn m(minor: i64) -> Money {
        Money::from_minor(minor).expect("non-negative")
    }

    fn order() -> Order {
        let line = |id: &str, quantity| OrderLine {
            product_id: ProductId::parse(id).expect("id"),
            name: id.into(),
            quantity: Quantity::new(quantity).expect("quantity"),
            unit_price: m(10),
            line_total: m(10 * i64::from(quantity)),
        };
        Order {
            id: OrderId::new(),
            items: vec![line("b", 2), line("a", 1)],
            total: m(30),
            currency: Currency::default(),
            status: OrderStatus::Placed,
            created_at: Timestamp::now(),
            cancelled_at: None,
        }
    }

    fn id(s: &str) -> ProductId {
        ProductId::parse(s).expect("id")
    }

    fn answer(
        plan: &[CancelAction],
        fail: impl Fn(&CancelAction) -> bool,
        failed: Answer<OrderStatus>,
    ) -> Vec<(CancelAction, Answer<OrderStatus>)> {
        plan.iter()
            .map(|a| {
                (
                    a.clone(),
                    if fail(a) {
                        failed.clone()
                    } else {
                        Answer::Passed
                    },
                )
            })
            .collect()
    }

    #[test]
    fn the_first_plan_marks_frees_a_place_and_gives_back_in_id_order() {
        assert_eq!(
            Cancel::new(&order()).plan(),
            vec![
                CancelAction::MarkCancelled { counted: true },
                CancelAction::FreePlace,
                CancelAction::GiveBack {
                    product: id("a"),
                    quantity: 1
                },
                CancelAction::GiveBack {
                    product: id("b"),
                    quantity: 2
                },
            ]
        );
    }

    #[test]
    fn an_order_not_placed_is_left_alone() {
        let mut cancel = Cancel::new(&order());
        let plan = cancel.plan();
        let marker = |a: &CancelAction| matches!(a, CancelAction::MarkCancelled { .. });
        for status in [Some(OrderStatus::Cancelled), None] {
            let a = answer(&plan, marker, Answer::Failed(status));
            assert_eq!(cancel.decide(&a), CancelNext::NotPlaced);
        }
    }

    #[test]
    fn an_order_from_before_the_counter_is_cancelled_without_freeing_a_place() {
        let mut cancel = Cancel::new(&order());
        let plan = cancel.plan();
        let marker = |a: &CancelAction| matches!(a, CancelAction::MarkCancelled { .. });
        let a = answer(&plan, marker, Answer::Failed(Some(OrderStatus::Placed)));
        assert_eq!(cancel.decide(&a), CancelNext::Again);
        let plan = cancel.plan();
        assert_eq!(plan[0], CancelAction::MarkCancelled { counted: false });
        assert!(!plan.contains(&CancelAction::FreePlace));
        // A marker that changes again is not chased.
        let a = answer(&plan, marker, Answer::Failed(Some(OrderStatus::Placed)));
        assert_eq!(cancel.decide(&a), CancelNext::Unexplained);
    }

    #[test]
    fn deleted_products_and_an_empty_count_are_left_out_of_the_next_round() {
        let mut cancel = Cancel::new(&order());
        let plan = cancel.plan();
        let a = answer(
            &plan,
            |a| {
                *a == CancelAction::FreePlace
                    || matches!(a, CancelAction::GiveBack { product, .. } if *product == id("b"))
            },
            Answer::Failed(None),
        );
        assert_eq!(cancel.decide(&a), CancelNext::Again);
        assert_eq!(
            cancel.plan(),
            vec![
                CancelAction::MarkCancelled { counted: true },
                CancelAction::GiveBack {
                    product: id("a"),
                    quantity: 1
                },
            ]
        );
    }

    #[test]
    fn a_cancellation_no_condition_explains_is_not_retried() {
        let mut cancel = Cancel::new(&order());
        let plan = cancel.plan();
        let a = answer(&plan, |_| true, Answer::Other("ValidationError".into()));
        assert_eq!(cancel.decide(&a), CancelNext::Unexplained);
    }
}

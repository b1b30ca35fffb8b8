//! A product's stock split into buckets, so that concurrent checkouts of one hot product spread
//! over K items (each its own DynamoDB partition) instead of queueing on one.
//!
//! The rules, with no I/O:
//! - an admin's stock figure is split evenly over the K buckets ([`split`]);
//! - a checkout draws a line from one bucket picked at random ([`pick`]), without reading any:
//!   a random pick spreads writers without any coordination between them;
//! - when that bucket turns out short, the checkout reads every bucket once and draws again from
//!   one picked at random among those that hold enough ([`choose`]); blind retries would spend the
//!   buckets' write units, the scarcer ones, on failed conditions as the stock runs out;
//! - a line that no single bucket can fill is drawn from several, fullest first ([`draw`]);
//! - a cancel gives stock back to bucket 0 (the product item), which exists for as long as the
//!   product does, so a cancel needs no read of the layout.
//!
//! The product shows one figure: the sum of its buckets.

/// Most buckets one product's stock may be split into. A checkout line draws from at most this
/// many (one stock update each), and an admin's write touches each one in one transaction.
pub const MAX_STOCK_BUCKETS: u32 = 16;

/// `total` split over `buckets` (at least one): even shares, the remainder one each to the first
/// buckets, so the shares differ by at most one and sum to `total`.
pub fn split(total: i64, buckets: u32) -> Vec<i64> {
    let k = i64::from(buckets.max(1));
    let (share, rest) = (total / k, total % k);
    (0..k).map(|i| share + i64::from(i < rest)).collect()
}

/// One of `buckets` buckets, picked at random (`random` is any random number).
pub fn pick(buckets: u32, random: u64) -> usize {
    (random % u64::from(buckets.max(1))) as usize
}

/// A restock over a read that sales have since moved on from: the admin saw `seen` units and
/// asks for `wanted`. Sales since the read still count, so each of the `buckets` gets its share
/// of the difference added, and the stock ends at `wanted` less what sold meanwhile: no sold unit
/// comes back. `None` when it is not a restock (`wanted < seen`): a lower figure over a stale read
/// could take units that are sold already, so it is refused (412) for a fresh read.
pub fn restock(seen: i64, wanted: i64, buckets: u32) -> Option<Vec<i64>> {
    let added = wanted.checked_sub(seen)?;
    (added >= 0).then(|| split(added, buckets))
}

/// One of `buckets` buckets other than `not` (throttled, say), picked at random; `not` itself when
/// there is no other.
pub fn pick_other(buckets: u32, not: usize, random: u64) -> usize {
    if buckets <= 1 {
        return not;
    }
    let p = pick(buckets - 1, random);
    if p >= not { p + 1 } else { p }
}

/// How to draw `quantity` from buckets holding `stocks`: from one bucket picked at random among
/// those that hold enough, else as [`draw`] does. `None` when all of them hold too little.
pub fn choose(stocks: &[i64], quantity: u32, random: u64) -> Option<Vec<(usize, u32)>> {
    let enough: Vec<usize> = (0..stocks.len())
        .filter(|&b| stocks[b] >= i64::from(quantity))
        .collect();
    if enough.is_empty() {
        return draw(stocks, quantity);
    }
    Some(vec![(
        enough[(random % enough.len() as u64) as usize],
        quantity,
    )])
}

/// How to draw `quantity` from buckets holding `stocks` now: fullest first, as few buckets as can
/// fill it, as `(bucket, quantity)` pairs. `None` when all of them together hold too little.
pub fn draw(stocks: &[i64], quantity: u32) -> Option<Vec<(usize, u32)>> {
    let mut order: Vec<usize> = (0..stocks.len()).collect();
    order.sort_by_key(|&b| std::cmp::Reverse(stocks[b]));
    let mut left = i64::from(quantity);
    let mut draws = Vec::new();
    for b in order {
        if left == 0 {
            break;
        }
        let take = stocks[b].min(left);
        if take > 0 {
            // `take` is at most `quantity`, a u32.
            draws.push((b, u32::try_from(take).ok()?));
            left -= take;
        }
    }
    (left == 0).then_some(draws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_even_and_sums_to_the_total() {
        assert_eq!(split(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split(3, 8), vec![1, 1, 1, 0, 0, 0, 0, 0]);
        assert_eq!(split(0, 2), vec![0, 0]);
        assert_eq!(split(7, 1), vec![7]);
        for k in 1..=MAX_STOCK_BUCKETS {
            let shares = split(1_000_000_007, k);
            assert_eq!(shares.len(), k as usize);
            assert_eq!(shares.iter().sum::<i64>(), 1_000_000_007);
            let (min, max) = (shares.iter().min(), shares.iter().max());
            assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1));
        }
    }

    #[test]
    fn pick_covers_every_bucket_and_only_those() {
        let seen: std::collections::HashSet<usize> = (0..64).map(|r| pick(8, r)).collect();
        assert_eq!(seen.len(), 8);
        assert!(seen.iter().all(|&b| b < 8));
        assert_eq!(pick(1, 99), 0);
        assert_eq!(pick(0, 99), 0, "no split is one bucket");
    }

    #[test]
    fn choose_picks_among_the_buckets_that_hold_enough() {
        let stocks = [0, 4, 1, 7, 2];
        let seen: std::collections::HashSet<usize> = (0..64)
            .filter_map(|r| choose(&stocks, 3, r))
            .map(|from| {
                assert_eq!(from.len(), 1);
                from[0].0
            })
            .collect();
        assert_eq!(seen, [1, 3].into_iter().collect());
        assert_eq!(choose(&stocks, 8, 0), Some(vec![(3, 7), (1, 1)]));
        assert_eq!(choose(&stocks, 15, 0), None);
    }

    #[test]
    fn draw_takes_the_fullest_buckets_first_and_refuses_too_little() {
        assert_eq!(draw(&[2, 5, 1], 3), Some(vec![(1, 3)]));
        assert_eq!(draw(&[2, 5, 1], 7), Some(vec![(1, 5), (0, 2)]));
        assert_eq!(draw(&[2, 5, 1], 8), Some(vec![(1, 5), (0, 2), (2, 1)]));
        assert_eq!(draw(&[2, 5, 1], 9), None);
        assert_eq!(draw(&[0, -1, 0], 1), None);
    }

    #[test]
    fn another_bucket_is_never_the_one_to_avoid() {
        for random in 0..64 {
            let b = pick_other(8, 3, random);
            assert!(b < 8 && b != 3, "{b}");
        }
        let all: std::collections::BTreeSet<usize> = (0..64).map(|r| pick_other(4, 0, r)).collect();
        assert_eq!(all.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(pick_other(1, 0, 7), 0);
    }

    #[test]
    fn a_restock_over_a_stale_read_adds_the_difference() {
        assert_eq!(restock(100, 400, 4), Some(vec![75, 75, 75, 75]));
        assert_eq!(restock(100, 103, 2), Some(vec![2, 1]));
        assert_eq!(restock(100, 100, 3), Some(vec![0, 0, 0]));
        assert_eq!(restock(100, 99, 3), None, "lowering over a stale read");
        assert_eq!(restock(i64::MIN, 1, 3), None);
    }
}

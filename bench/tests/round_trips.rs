//! Round trips of init's network calls, counted through the bench's delayed TLS terminator: each
//! one-way trip costs a known latency there, so a call's time says how many it made.

use std::time::{Duration, Instant};

/// One way, each direction: long enough that the machine's noise cannot pass for a trip, short
/// enough that a delayed acknowledgement (up to 40 ms on Linux) waits for the next data.
const ONE_WAY: Duration = Duration::from_millis(15);

/// A key-set fetch on a new connection is the TLS 1.3 handshake (two one-way trips) and the GET
/// (two more): four. With Nagle's algorithm on, the GET waited behind the client's Finished for
/// an acknowledgement the issuer's side delays until its own next data: six.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_fetch_takes_two_round_trips_after_connecting() {
    let dir = std::env::temp_dir().join(format!("bench-rtt-{}", uuid::Uuid::new_v4()));
    let ca = harness::tls::TestCa::generate(&dir).expect("a CA");
    let jwks = harness::jwks::serve(r#"{"keys":[]}"#.to_owned())
        .await
        .expect("a key set");
    let front = ca
        .terminate_delayed(jwks, ONE_WAY)
        .await
        .expect("a terminator");
    let pem = std::fs::read(ca.bundle()).expect("the CA");
    let started = Instant::now();
    let keys = shared::auth::KeyCache::fetched(
        &format!("https://{front}/.well-known/jwks.json"),
        Duration::from_secs(300),
        Duration::from_secs(5),
        Duration::from_secs(3600),
        Some(&pem),
    )
    .await
    .expect("a fetcher");
    let took = started.elapsed();
    assert_eq!(keys.fetch_count(), 1);
    assert!(
        took >= 4 * ONE_WAY,
        "faster than the network allows: {took:?}"
    );
    assert!(
        took < 5 * ONE_WAY,
        "{took:?}: more than four one-way trips of {ONE_WAY:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

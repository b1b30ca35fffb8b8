//! The first-randomness probe: how long the first draw of randomness takes in a fresh process,
//! built with the workspace's release profile and settings, with aws-lc as the functions link it.
//!
//! The first TLS handshake of a cold start makes this draw (key shares, client random). aws-lc
//! seeds its generator then, and its CPU-jitter entropy source (unless built with
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=1`) spends milliseconds sampling timing noise. Prints one JSON
//! line: `{"first_us": <first 32-byte fill>, "second_us": <the next one>}`.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use std::time::Instant;

fn main() {
    let rng = SystemRandom::new();
    let mut bytes = [0u8; 32];
    let started = Instant::now();
    if rng.fill(&mut bytes).is_err() {
        eprintln!("floor-random: the system random generator failed");
        std::process::exit(1);
    }
    let first = started.elapsed();
    let started = Instant::now();
    if rng.fill(&mut bytes).is_err() {
        eprintln!("floor-random: the system random generator failed");
        std::process::exit(1);
    }
    let second = started.elapsed();
    println!(
        "{}",
        serde_json::json!({
            "first_us": first.as_secs_f64() * 1e6,
            "second_us": second.as_secs_f64() * 1e6,
        })
    );
}

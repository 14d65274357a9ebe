//! The benchmarks' percentile definition (benches/stats/mod.rs), tested in the normal test run:
//! the bench binaries are `harness = false`, so tests inside them never run.
#[path = "../benches/stats/mod.rs"]
mod stats;

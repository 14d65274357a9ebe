//! Real-cluster benchmarks (event to screen, switchover, start-up, scale), driven by
//! `scripts/bench`. Without a subcommand (as `cargo test --all-targets` runs it) it does nothing.

fn main() {
    println!("live bench: run it through scripts/bench");
}

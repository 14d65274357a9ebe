//! patrol: a live terminal console for PostgreSQL clusters run by Patroni with etcd.

pub mod app;
pub mod check;
pub mod cli;
pub mod clip;
pub mod config;
pub mod dcs;
pub mod files;
pub mod haproxy;
pub mod logs;
pub mod output;
pub mod patroni;
pub mod pyyaml;
pub mod readcmds;
pub mod redact;
pub mod runtime;
pub mod text;
pub mod theme;
pub mod tls;
pub mod ui;
pub mod write;

/// rustls needs one process-wide crypto provider; reqwest is built without a default one.
pub fn install_crypto_provider() {
    // Err means another thread installed it first: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

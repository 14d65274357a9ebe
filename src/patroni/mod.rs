//! The members' Patroni REST API: typed reads (and, later, the write calls).

mod client;
pub mod cluster;
mod status;

pub use client::{RestClient, RestError, safe_builder};
pub use status::{PatroniStatus, ReplicationConn, Xlog};

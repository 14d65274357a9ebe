//! Agent logs: one source per member (`file:PATH` followed like `tail -F`, or
//! `cmd:COMMAND` run under `sh -c`), parsed into [`LogLine`]s and kept in a bounded
//! [`LogBuffer`].
//!
//! The follow functions are tasks: spawn one per member with a clone of the app's channel;
//! each ends when its receiver is dropped. Everything read is untrusted: decoded lossily,
//! control characters replaced before it is stored.

mod buffer;
mod cmd;
mod file;
pub mod filter;
mod line;
mod spec;
mod word;

pub use buffer::LogBuffer;
pub use cmd::{Backoff, follow_cmd, kill_all_commands, stop_all_commands};
pub use file::follow_file;
pub use filter::matches;
pub use line::{Level, LogLine, parse_line};
pub use spec::{LogSourceSpec, ResolveError, ResolvedSource, SpecError, shell_quote};
pub use word::{SafeHost, SafeMember, WordError};

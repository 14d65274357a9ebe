//! patrol's own log as the `o` view shows it: each `tracing` event becomes one line of text,
//! its message first and then its fields as `key=value` in the order the code wrote them
//! (the same words `--log-file` gets), handed to tui-logger's buffer. tui-logger's own layer
//! sorts the fields by name with the message among them, so `revision` read twice and the
//! message landed in the middle of the fields.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// The layer that feeds the own-log view; [`layer`] builds it.
pub struct OwnLogLayer;

/// The layer, with tui-logger's buffer keeping what patrol logs at `info` and above (the
/// layer's own filter decides first).
pub fn layer() -> OwnLogLayer {
    tui_logger::set_default_level(tui_logger::LevelFilter::Info);
    OwnLogLayer
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for OwnLogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            tracing::Level::ERROR => log::Level::Error,
            tracing::Level::WARN => log::Level::Warn,
            tracing::Level::INFO => log::Level::Info,
            tracing::Level::DEBUG => log::Level::Debug,
            tracing::Level::TRACE => log::Level::Trace,
        };
        let text = event_text(event);
        // `Drain` is tui-logger's buffer without its `log` facade filter: the filter on
        // this layer has decided already
        tui_logger::Drain::new().log(
            &log::Record::builder()
                .args(format_args!("{text}"))
                .level(level)
                .target(meta.target())
                .module_path(meta.module_path())
                .build(),
        );
    }
}

/// One event as text: `message key=value key="a value with spaces"`. Not sanitized here:
/// the view sanitizes what it draws.
pub fn event_text(event: &tracing::Event<'_>) -> String {
    let mut v = Fields::default();
    event.record(&mut v);
    let mut out = v.message;
    for (k, val) in v.fields {
        if !out.is_empty() {
            out.push(' ');
        }
        // a value with blanks is quoted, so where it ends stays readable (not escaped: this
        // is read by a person, and the quotes inside an error are its own)
        if val.is_empty() || val.contains(char::is_whitespace) {
            let _ = write!(out, "{k}=\"{val}\"");
        } else {
            let _ = write!(out, "{k}={val}");
        }
    }
    out
}

#[derive(Default)]
struct Fields {
    message: String,
    /// In the order they were written in the event.
    fields: Vec<(&'static str, String)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.fields.push((field.name(), value));
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%x` fields and the message arrive here too, already as Display
        self.put(field, format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    /// A layer that keeps the text [`super::event_text`] makes of each event.
    struct Keep(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Keep {
        fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            if let Ok(mut v) = self.0.lock() {
                v.push(super::event_text(e));
            }
        }
    }

    fn texts(f: impl FnOnce()) -> Vec<String> {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let sub = tracing_subscriber::registry().with(Keep(kept.clone()));
        tracing::subscriber::with_default(sub, f);
        kept.lock().map(|v| v.clone()).unwrap_or_default()
    }

    #[test]
    fn the_message_comes_first_and_each_field_once_in_its_order() {
        let shown = "http://127.0.0.1:24000";
        let (revision, keys) = (35u64, 7usize);
        let got = texts(|| {
            // as src/dcs/v3.rs logs a snapshot
            tracing::info!(endpoint = %shown, revision, keys, skipped = 0, "etcd snapshot loaded; the watch starts after it");
            tracing::info!(method = "POST", url = %"http://127.0.0.1:24011/reload", body = ?Option::<String>::None, "sending");
            tracing::warn!(error = %"transport error: connection refused", "etcd watch ended");
            tracing::error!("the terminal is gone");
        });
        assert_eq!(
            got,
            [
                "etcd snapshot loaded; the watch starts after it endpoint=http://127.0.0.1:24000 revision=35 keys=7 skipped=0",
                "sending method=POST url=http://127.0.0.1:24011/reload body=None",
                "etcd watch ended error=\"transport error: connection refused\"",
                "the terminal is gone",
            ]
        );
        assert_eq!(got[0].matches("revision").count(), 1, "{}", got[0]);
    }
}

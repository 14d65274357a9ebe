//! What the operator is looking at: the selected member, the open views (a stack: esc goes
//! back to where you came from), the help, the log view's own state, the status-bar message.
//! No cluster data here, and nothing here is sent anywhere.

use std::time::Instant;

use super::members::MemberRow;

/// What fills the screen under the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Main,
    Detail(String),
    History,
    Config,
    Etcd,
    /// One member's Patroni log, or all members merged by time (None).
    Logs(Option<String>),
    /// Connection strings; the index of the selected one.
    Dsn(usize),
    /// patrol's own diagnostic log.
    OwnLog,
    /// The event log, newest first, with operations' whole replies.
    Events,
    /// The health rules' active findings.
    Health,
    /// What the HAProxies route to, and the members' health endpoints.
    Routing,
}

/// The Events view's own state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsView {
    /// Events scrolled past at the top (0: the newest first).
    pub scroll: usize,
    /// The log filter's grammar (`/` in the view), over each event's text.
    pub filter: String,
    pub editing_filter: bool,
    /// Frozen (`F`): how many events the model had recorded when it was frozen
    /// (`Model::events_pushed`); the pane and the view show those only, the title counts
    /// the rest.
    pub frozen: Option<u64>,
}

/// The log view's own state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogView {
    pub follow: bool,
    pub wrap: bool,
    pub filter: String,
    pub editing_filter: bool,
    /// Lines scrolled up from the end (0 = the newest at the bottom). While paused, new
    /// lines add to it, so what is on screen stays where it is.
    pub scroll: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    /// The selected member, by name: rows reorder when the leader changes.
    pub selected: Option<String>,
    /// Open views above the main one, the top one on screen.
    views: Vec<View>,
    pub show_help: bool,
    /// Lines of the help scrolled away at the top (it may not fit a small terminal).
    pub help_scroll: usize,
    pub log_view: LogView,
    pub events_view: EventsView,
    /// A one-line message for the status bar (refusals, "nothing scheduled" ...); it lasts
    /// until the next key.
    pub flash: Option<(String, Instant)>,
    /// The terminal's size (columns, rows) from `Msg::Resize`; None: no terminal (headless),
    /// nothing is drawn, so nothing can be cut off.
    pub size: Option<(u16, u16)>,
}

impl Default for Screen {
    fn default() -> Self {
        Screen {
            selected: None,
            views: Vec::new(),
            show_help: false,
            help_scroll: 0,
            log_view: LogView {
                follow: true,
                ..Default::default()
            },
            events_view: EventsView::default(),
            flash: None,
            size: None,
        }
    }
}

/// Deep enough for any path a person takes (detail, its log, the etcd view ...); an older
/// view falls off the bottom rather than the stack growing with key presses.
const MAX_VIEWS: usize = 8;

impl Screen {
    pub fn view(&self) -> &View {
        self.views.last().unwrap_or(&View::Main)
    }

    /// The open views, the main one first.
    pub fn views(&self) -> impl Iterator<Item = &View> {
        std::iter::once(&View::Main).chain(self.views.iter())
    }

    /// Open a view on top; the same kind of view already on top is replaced (the detail of
    /// another member, the log of another member).
    pub fn open(&mut self, v: View) {
        if v == View::Main {
            self.views.clear();
            return;
        }
        if let Some(top) = self.views.last_mut()
            && std::mem::discriminant(top) == std::mem::discriminant(&v)
        {
            *top = v;
            return;
        }
        // a view already open further down comes back to the top, not in twice
        self.views
            .retain(|x| std::mem::discriminant(x) != std::mem::discriminant(&v));
        self.views.push(v);
        if self.views.len() > MAX_VIEWS {
            self.views.remove(0);
        }
    }

    /// The key of the view on top closes it; any other opens that view.
    pub fn toggle(&mut self, v: View) {
        if std::mem::discriminant(self.view()) == std::mem::discriminant(&v) {
            self.back();
        } else {
            self.open(v);
        }
    }

    /// Close the view on top.
    pub fn back(&mut self) {
        self.views.pop();
    }

    /// Replace the view on top (its own state changed: the selected connection string).
    pub fn replace_top(&mut self, v: View) {
        match self.views.last_mut() {
            Some(top) => *top = v,
            None => self.open(v),
        }
    }

    pub fn flash(&mut self, s: String, now: Instant) {
        self.flash = Some((s, now));
    }

    /// The row of the selected member (the first row when none or it vanished).
    /// How many member rows either side of the selection a frame may show: the terminal's
    /// height (the table scrolls so that the selection stays in view), or
    /// [`super::Model::ROWS_NEAR`] before the size is known.
    pub fn rows_near(&self) -> usize {
        self.size
            .map_or(super::Model::ROWS_NEAR, |(_, h)| usize::from(h).max(1))
    }

    pub fn selected_index(&self, rows: &[MemberRow]) -> usize {
        self.selected
            .as_ref()
            .and_then(|n| rows.iter().position(|r| &r.name == n))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_stack_and_esc_goes_back_where_you_came_from() {
        let mut s = Screen::default();
        s.open(View::Detail("pg1".into()));
        s.open(View::Logs(Some("pg1".into())));
        assert_eq!(*s.view(), View::Logs(Some("pg1".into())));
        s.back();
        assert_eq!(*s.view(), View::Detail("pg1".into()));
        // another member's detail replaces this one
        s.open(View::Detail("pg2".into()));
        assert_eq!(s.views().count(), 2);
        s.toggle(View::History);
        s.toggle(View::History);
        assert_eq!(*s.view(), View::Detail("pg2".into()));
        s.back();
        s.back();
        assert_eq!(*s.view(), View::Main);
    }

    #[test]
    fn the_stack_is_bounded_whatever_is_pressed() {
        let mut s = Screen::default();
        for i in 0..100 {
            s.open(if i % 2 == 0 {
                View::History
            } else {
                View::Etcd
            });
            s.open(View::Detail(format!("m{i}")));
        }
        assert!(s.views().count() <= MAX_VIEWS + 1);
    }
}

//! Views: pure functions of `&App` and `&Theme` that draw into a frame.

mod dialog;
pub mod events;
mod header;
mod help;
mod info;
pub mod logwin;
mod members;
mod nologs;
mod ownlog;
mod routing;
mod statusbar;
mod views;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::app::members::Window;
use crate::theme::Theme;

/// Below this the full layout cannot fit; a one-line summary is drawn instead.
const MIN_WIDTH: u16 = 40;
const MIN_HEIGHT: u16 = 8;

/// The main view's event log keeps five events (and its border) before the cluster pane
/// gets a row.
const EVENTS_MIN: u16 = 7;

pub use dialog::review_fits;
pub use nologs::EXPLANATION as NO_LOG_SOURCE;

thread_local! {
    /// Did the frame being drawn (or the last one drawn) on this thread show a relative
    /// time? Set by [`ago`], read by the runtime after the frame ([`ages_drawn`]).
    static AGES_DRAWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Every relative time a view draws ("5s ago", "gone 2m05s", "DOWN 8s") goes through
/// here, so that the clock redraws exactly the frames that show one: the frame notes it
/// and `App::drawn` tells `Redraw`. A view that formatted an age itself would freeze it
/// on an idle cluster (a test over the sources refuses `human_age` in `src/ui/`).
pub fn ago(d: std::time::Duration) -> String {
    AGES_DRAWN.with(|a| a.set(true));
    crate::app::members::human_age(d)
}

/// A countdown to a time ("in 14m"): it moves with the clock like an age.
pub fn countdown(now: jiff::Timestamp, at: jiff::Timestamp) -> String {
    AGES_DRAWN.with(|a| a.set(true));
    crate::app::schedule::countdown(now, at)
}

/// A duration that does not move with the clock (a lag measured between two answers):
/// not an age, so it costs no frame a second.
pub fn span(d: std::time::Duration) -> String {
    crate::app::members::human_age(d)
}

/// Did the last frame [`render`] drew on this thread show a relative time?
pub fn ages_drawn() -> bool {
    AGES_DRAWN.with(|a| a.get())
}

/// Is `area` large enough for the full layout (and so for a dialog)?
fn full_layout(area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
}

/// The area a view (and the main view's panes) is drawn in, on a terminal of `area`; None
/// when it is too small for the full layout. `render` lays the screen out with it.
pub fn body_area(app: &App, area: Rect) -> Option<Rect> {
    if !full_layout(area) {
        return None;
    }
    Some(layout(app, area)[2])
}

fn layout(app: &App, area: Rect) -> [Rect; 4] {
    let warn_lines = header::warning_lines(app).min(3);
    Layout::vertical([
        Constraint::Length(header::height(app, &Theme::default())),
        Constraint::Length(warn_lines),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area)
}

pub fn render(f: &mut Frame, app: &App, theme: &Theme) {
    AGES_DRAWN.with(|a| a.set(false));
    let area = f.area();
    // the member rows a pane can read are derived once per frame and shared by every pane
    // (a window around the selection, not every member key)
    let win = app.window();
    let rows = &win.rows;
    if !full_layout(area) {
        tiny(f, area, app, &win, theme);
        return;
    }
    let [head, warn, body, status] = layout(app, area);
    header::render(f, head, app, rows, theme);
    header::render_warnings(f, warn, app, theme);
    match app.screen.view() {
        crate::app::View::Main => {}
        other => {
            match other {
                crate::app::View::Detail(m) => views::detail(f, body, app, rows, m, theme),
                crate::app::View::History => views::history(f, body, app, theme),
                crate::app::View::Etcd => views::etcd(f, body, app, theme),
                crate::app::View::Dsn(i) => views::dsn(f, body, app, *i, theme),
                crate::app::View::OwnLog => ownlog::render(f, body, theme),
                crate::app::View::Logs(_) if !app.model.logs_configured => {
                    nologs::render(f, body, app, theme)
                }
                crate::app::View::Logs(m) => views::logs(f, body, app, m.as_deref(), theme),
                crate::app::View::Config => views::config(f, body, app, theme),
                crate::app::View::Events => events::view(f, body, app, theme),
                crate::app::View::Health => views::health(f, body, app, theme),
                crate::app::View::Routing => routing::view(f, body, app, theme),
                crate::app::View::Main => {}
            }
            statusbar::render(f, status, app, theme);
            if let Some(d) = &app.session.dialog {
                dialog::render(f, area, app, d, theme);
            } else if app.screen.show_help {
                help::render(f, area, app, theme);
            }
            return;
        }
    }
    // operations in flight (or recent) sit right under the header: that is where eyes are
    let body = if app.session.panel().next().is_none() && app.session.rollout.is_none() {
        body
    } else {
        // one row per operation (a finished one is its one-line outcome), never wrapped:
        // at 80x24 the cluster pane and the events stay on screen
        let n = dialog::ops_rows(app) + 2;
        let [ops, rest] = Layout::vertical([Constraint::Length(n), Constraint::Min(3)]).areas(body);
        dialog::render_ops(f, ops, app, theme);
        rest
    };
    // the table takes what its rows need; the event log keeps EVENTS_MIN rows (a banner and
    // the operations panel must not squeeze it to nothing), the cluster pane takes the rest
    // up to what it needs, from two rows (its lines cut to one row each) up
    // the member count is etcd's to decide: 70,000 keys must not wrap or overflow
    let want = u16::try_from(win.total)
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let info_h: u16 = if body.width >= 110 { 5 } else { 7 };
    let room = body.height.saturating_sub(want).saturating_sub(EVENTS_MIN);
    if room >= 4 {
        let [table, info, events] = Layout::vertical([
            Constraint::Length(want),
            Constraint::Length(info_h.min(room)),
            Constraint::Min(EVENTS_MIN),
        ])
        .areas(body);
        members::render(f, table, app, &win, theme);
        info::render(f, info, app, theme);
        events::render(f, events, app, theme);
    } else if body.height >= want.saturating_add(4) {
        let [table, events] =
            Layout::vertical([Constraint::Length(want), Constraint::Min(4)]).areas(body);
        members::render(f, table, app, &win, theme);
        events::render(f, events, app, theme);
    } else {
        members::render(f, body, app, &win, theme);
    }
    statusbar::render(f, status, app, theme);
    if let Some(d) = &app.session.dialog {
        dialog::render(f, area, app, d, theme);
    } else if app.screen.show_help {
        help::render(f, area, app, theme);
    }
}

/// A terminal too small for the layout still says what matters: leader and health.
fn tiny(f: &mut Frame, area: Rect, app: &App, win: &Window, theme: &Theme) {
    let leader = win
        .rows
        .iter()
        .find(|r| r.role.is_leader())
        .map(|r| r.name.as_str());
    let mut spans = vec![
        Span::styled(crate::text::sanitize(&app.model.scope), theme.title),
        Span::raw(" "),
    ];
    match leader {
        Some(l) => spans.push(Span::styled(
            format!("L:{}", crate::text::sanitize(l)),
            theme.leader,
        )),
        None if app.model.loaded => spans.push(Span::styled("NO LEADER", theme.danger)),
        None => spans.push(Span::styled("…", theme.muted)),
    }
    if app.model.stale_for().is_some() {
        spans.push(Span::styled(" etcd DOWN", theme.down));
    }
    spans.push(Span::styled(format!(" {}m", win.total), theme.muted));
    let mut lines = vec![Line::from(spans)];
    if area.height > 1 {
        lines.push(Line::styled("enlarge terminal · q quits", theme.muted));
    }
    f.render_widget(Paragraph::new(lines), area);
}

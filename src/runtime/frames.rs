//! How often the screen may be drawn.

use std::time::Duration;

/// Frames: at most 30 a second in a sustained burst, but the first few changes after a
/// quiet moment draw at once. (A fixed 33 ms window after every frame made a switchover's
/// leader key wait up to 33 ms behind the member-key changes just before it.)
const FRAME_RATE: f64 = 30.0;
const FRAME_BURST: f64 = 3.0;

/// A token bucket of frames.
#[derive(Debug)]
pub(super) struct FrameBudget {
    tokens: f64,
    at: tokio::time::Instant,
}

impl FrameBudget {
    pub(super) fn new(now: tokio::time::Instant) -> Self {
        FrameBudget {
            tokens: FRAME_BURST,
            at: now,
        }
    }

    fn refill(&mut self, now: tokio::time::Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * FRAME_RATE).min(FRAME_BURST);
        self.at = now;
    }

    /// None: draw now. Some(t): the next frame is allowed at `t`.
    pub(super) fn wait_until(&mut self, now: tokio::time::Instant) -> Option<tokio::time::Instant> {
        self.refill(now);
        (self.tokens < 1.0).then(|| now + Duration::from_secs_f64((1.0 - self.tokens) / FRAME_RATE))
    }

    pub(super) fn spend(&mut self, now: tokio::time::Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }

    /// A frame drawn from `began` to `now`: a frame that took as long as k frame intervals
    /// costs k more, so drawing takes at most about half of the loop's time and the rest is
    /// left to apply what waits (100,000 member rows take tens of ms to draw; at 30 frames a
    /// second the queue behind them would never drain).
    pub(super) fn spend_drawn(&mut self, began: tokio::time::Instant, now: tokio::time::Instant) {
        self.spend(now);
        self.tokens -= now.saturating_duration_since(began).as_secs_f64() * FRAME_RATE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_frames_draw_at_once_then_thirty_a_second() {
        let t0 = tokio::time::Instant::now();
        let mut b = FrameBudget::new(t0);
        for _ in 0..3 {
            assert_eq!(b.wait_until(t0), None);
            b.spend(t0);
        }
        // the bucket is empty: the next frame is one thirtieth of a second away
        let next = b.wait_until(t0).expect("must wait");
        let wait = next.duration_since(t0).as_secs_f64();
        assert!((wait - 1.0 / 30.0).abs() < 1e-6, "{wait}");
        b.spend(next);
        // a quiet second refills the burst, no more
        let later = next + Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(b.wait_until(later), None);
            b.spend(later);
        }
        assert!(b.wait_until(later).is_some());
    }

    #[test]
    fn a_slow_frame_waits_as_long_again_before_the_next() {
        let t0 = tokio::time::Instant::now();
        let mut b = FrameBudget::new(t0);
        // a frame that took 100 ms (three frame intervals), with the burst tokens spent
        let end = t0 + Duration::from_millis(100);
        b.tokens = 0.0;
        b.at = end;
        b.spend_drawn(t0, end);
        let next = b.wait_until(end).expect("must wait");
        let wait = next.duration_since(end).as_secs_f64();
        // from an empty bucket a quick frame waits two intervals (it went one below, and a
        // frame needs one); this one three more, for the time it took
        assert!((wait - 5.0 / 30.0).abs() < 1e-6, "{wait}");
        // a quick frame costs one token, as before
        let mut q = FrameBudget::new(t0);
        q.spend_drawn(t0, t0);
        assert!((q.tokens - (FRAME_BURST - 1.0)).abs() < 1e-9);
    }
}

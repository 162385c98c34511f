//! Progress on standard error for runs long enough to wonder about: a spinner naming the export
//! being linted, drawn only on a terminal and only after the run has taken a moment, cleared
//! when the run ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs shorter than this never draw anything.
const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct Spinner {
    bar: ProgressBar,
    /// Set when the run ends, so a late timer never draws over the report.
    done: Arc<Mutex<bool>>,
}

impl Spinner {
    pub fn start() -> Spinner {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message("looking for exports");
        let done = Arc::new(Mutex::new(false));
        let (timer_bar, timer_done) = (bar.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            std::thread::sleep(SHOW_AFTER);
            let done = timer_done.lock().unwrap_or_else(|e| e.into_inner());
            if !*done {
                timer_bar.set_draw_target(ProgressDrawTarget::stderr());
                timer_bar.enable_steady_tick(Duration::from_millis(120));
            }
        });
        Spinner { bar, done }
    }

    /// The callback the run reports its steps to.
    pub fn sink(&self) -> claimlint::Progress {
        let bar = self.bar.clone();
        let total = Arc::new(Mutex::new(0usize));
        claimlint::Progress(Arc::new(move |step| match step {
            claimlint::Step::Found { exports } => {
                *total.lock().unwrap_or_else(|e| e.into_inner()) = exports;
            }
            claimlint::Step::Export { index, root } => {
                let total = *total.lock().unwrap_or_else(|e| e.into_inner());
                bar.set_message(format!("linting {root} (export {} of {total})", index + 1));
            }
        }))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.bar.finish_and_clear();
    }
}

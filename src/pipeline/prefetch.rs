//! Work started on an idle thread of the pool, taken by whoever needs it first.

use std::sync::{Arc, Condvar, Mutex};

/// Work started on an idle thread of the pool and taken by whoever needs it first: its
/// result once it ran, the wait while it runs, or the work itself, run by the taker, when
/// no thread has picked it up yet (a pool whose threads are all busy cannot deadlock).
pub struct Prefetch<T> {
    state: Arc<(Mutex<Stage<T>>, Condvar)>,
}

type Work<T> = Box<dyn FnOnce() -> T + Send>;

enum Stage<T> {
    Waiting(Work<T>),
    Running,
    Done(T),
    Taken,
}

impl<T: Send + 'static> Prefetch<T> {
    pub fn start(work: impl FnOnce() -> T + Send + 'static) -> Self {
        let state = Arc::new((Mutex::new(Stage::Waiting(Box::new(work))), Condvar::new()));
        let job = Arc::clone(&state);
        rayon::spawn(move || {
            let (lock, done) = &*job;
            let work = match lock.lock() {
                Ok(mut stage) => match std::mem::replace(&mut *stage, Stage::Running) {
                    Stage::Waiting(work) => work,
                    other => {
                        *stage = other;
                        return;
                    }
                },
                Err(_) => return,
            };
            let out = work();
            if let Ok(mut stage) = lock.lock() {
                *stage = Stage::Done(out);
            }
            done.notify_all();
        });
        Prefetch { state }
    }

    /// The work's result; `None` only when a thread running it panicked.
    pub fn take(self) -> Option<T> {
        let (lock, done) = &*self.state;
        let mut stage = lock.lock().ok()?;
        loop {
            match std::mem::replace(&mut *stage, Stage::Taken) {
                Stage::Waiting(work) => {
                    drop(stage);
                    return Some(work());
                }
                Stage::Running => {
                    *stage = Stage::Running;
                    drop(stage);
                    // The work may have spread over the pool (a parallel walk), and this
                    // thread is one of the pool's: it helps rather than idles, and naps
                    // only when there is nothing to help with.
                    if rayon::yield_now() == Some(rayon::Yield::Executed) {
                        stage = lock.lock().ok()?;
                    } else {
                        let nap = std::time::Duration::from_millis(1);
                        stage = done.wait_timeout(lock.lock().ok()?, nap).ok()?.0;
                    }
                }
                Stage::Done(out) => return Some(out),
                Stage::Taken => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prefetch's result comes from the thread that ran it, or from the taker when no
    /// thread was free to (a pool whose only thread is the taker's must not wait forever).
    #[test]
    fn a_prefetch_gives_its_result_whoever_runs_it() {
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        pool(2).install(|| {
            let here = std::thread::current().id();
            let p = Prefetch::start(|| (6 * 7, std::thread::current().id()));
            // The other thread is idle: it picks the work up.
            let picked = || !matches!(*p.state.0.lock().unwrap(), Stage::Waiting(_));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !picked() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let (answer, ran_on) = p.take().unwrap();
            assert_eq!(answer, 42);
            assert_ne!(ran_on, here);
        });
        pool(1).install(|| {
            let here = std::thread::current().id();
            let p = Prefetch::start(|| std::thread::current().id());
            assert_eq!(
                p.take(),
                Some(here),
                "the taker runs what no thread picked up"
            );
        });
    }
}

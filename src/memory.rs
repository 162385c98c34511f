//! Giving memory freed by one phase back to the system before the next one grows.
//!
//! claimlint's binary allocates with mimalloc, which keeps the pages a thread frees for that
//! thread to reuse. Loading frees every file's syntax tree, and the analysis frees its per-login
//! grouping keys, but the phases after them allocate on other threads and in other size
//! classes, so the freed pages mostly stay resident next to the new ones. At 50,000 files this
//! is about a fifth of the peak. Collecting on every worker at those few points costs a few
//! milliseconds each.

/// Memory the allocator holds below which nothing is given back. Pages given back are faulted
/// in (and zeroed by the kernel) again when the next phase allocates, which costs a run of a
/// few thousand scripts more time than the memory is worth (about 5% of the replicated rules
/// gallery's time, for 6 MB of its peak); above it (50,000 files hold 160-210 MB at these
/// points), the largest exports keep their peak within budget.
const GIVE_BACK_ABOVE: usize = 128 << 20;

/// Asks the allocator on every worker of the current thread pool to give its free pages back,
/// when it holds more than [`GIVE_BACK_ABOVE`].
pub(crate) fn give_back_freed() {
    if held() < GIVE_BACK_ABOVE {
        return;
    }
    rayon::broadcast(|_| {
        // SAFETY: `mi_collect` only frees mimalloc's own unused memory. It can be called at any
        // time on any thread, and does nothing harmful when mimalloc is not the allocator in use.
        unsafe { libmimalloc_sys::mi_collect(true) }
    });
}

/// The memory mimalloc holds (its committed pages, in use or free); 0 when it is not the
/// allocator in use.
fn held() -> usize {
    let mut commit = 0usize;
    let none = std::ptr::null_mut();
    // SAFETY: every out-parameter is either null (not asked for) or a valid `usize`.
    unsafe { libmimalloc_sys::mi_process_info(none, none, none, none, none, &mut commit, none, none) };
    commit
}

//! The allocator the binary uses, and giving memory freed by one phase back to the system
//! before the next one grows.
//!
//! claimlint's binary allocates with mimalloc, which keeps the pages a thread frees for that
//! thread to reuse. Loading frees every file's syntax tree, and the analysis frees its per-login
//! grouping keys, but the phases after them allocate on other threads and in other size
//! classes, so the freed pages mostly stay resident next to the new ones. At 50,000 files this
//! is about a fifth of the peak. Collecting on every worker at those few points costs a few
//! milliseconds each.

/// Resident memory below which nothing is given back. Pages given back are faulted in (and
/// zeroed by the kernel) again when the next phase allocates, which costs a run of a few
/// thousand scripts more time than the memory is worth (3-8% of the replicated rules gallery's
/// wall time, which stays near 110 MB); above it (50,000 files hold 160-210 MB at these
/// points), the largest exports keep their peak within budget.
const GIVE_BACK_ABOVE: usize = 128 << 20;

/// Asks the allocator on every worker of the current thread pool to give its free pages back,
/// when the process is resident in more than [`GIVE_BACK_ABOVE`].
pub(crate) fn give_back_freed() {
    if resident() < GIVE_BACK_ABOVE {
        return;
    }
    rayon::broadcast(|_| {
        // SAFETY: `mi_collect` only frees mimalloc's own unused memory. It can be called at any
        // time on any thread, and does nothing harmful when mimalloc is not the allocator in use.
        unsafe { libmimalloc_sys::mi_collect(true) }
    });
    // The workers' collections race for the lock on the arenas' purge list, and one that loses
    // skips it; their segments freed into the arenas stay committed for the arenas' own delay
    // ([`MiMalloc::keep_freed_pages`] makes that 10 s). One more collection, alone, purges them.
    // SAFETY: as above.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// The memory the process is resident in now, as the kernel counts it; elsewhere than on
/// Linux, the most it has been resident in so far. (mimalloc's own count of committed memory
/// is no such measure: mimalloc 2 counts its whole 1 GiB arena as committed from the first
/// allocation on.)
fn resident() -> usize {
    #[cfg(target_os = "linux")]
    if let Some(now) = resident_now() {
        return now;
    }
    peak_resident()
}

/// The resident size the kernel keeps for this process (`/proc/self/statm`: its own account,
/// as `getrusage` gives, not a file of anyone's). The peak alone would not do here: it carries
/// over from the image that started claimlint, so a large parent (an editor, a CI agent) would
/// make every run give memory back.
#[cfg(target_os = "linux")]
fn resident_now() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: `sysconf` only reads a system setting.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages.checked_mul(usize::try_from(page).ok()?)
}

/// The most memory the process has been resident in so far (`getrusage`; 0 where the system
/// does not count it).
#[cfg(unix)]
fn peak_resident() -> usize {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the `rusage` it is given and reads nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return usize::MAX;
    }
    // SAFETY: a zeroed `rusage` is a valid one, and `getrusage` succeeded.
    let max_rss = usize::try_from(unsafe { usage.assume_init() }.ru_maxrss).unwrap_or(usize::MAX);
    // Apple's systems count in bytes, the others in KiB.
    if cfg!(target_vendor = "apple") {
        max_rss
    } else {
        max_rss.saturating_mul(1024)
    }
}

/// Elsewhere nothing tells: freed memory is always given back.
#[cfg(not(unix))]
fn peak_resident() -> usize {
    usize::MAX
}

/// The alignment every mimalloc block of at least that size already has (its
/// `MI_MAX_ALIGN_SIZE`: blocks are whole multiples of it from 16 bytes up).
const PLAIN_ALIGN: usize = 16;

/// mimalloc as the process allocator, asked for plain blocks whenever their own alignment
/// satisfies the layout.
///
/// The `mimalloc` crate's allocator passes every layout to mimalloc's aligned entry points, whose
/// fast path only holds while a page of the right size has a free block; otherwise mimalloc 3
/// over-allocates and aligns by hand for every size that is not a power of two, and mimalloc 2
/// (the one built here) checks the alignment on every call. That was 8% of the replicated rules
/// gallery's instructions with mimalloc 3, and 3% with mimalloc 2, for layouts that need no more
/// than what `mi_malloc` guarantees. This is the rule the standard library's `System` allocator
/// follows for `malloc`.
pub struct MiMalloc;

/// mimalloc 2's `mi_option_purge_delay`, in its option enum (the bindings name the options on
/// either side of it, 14 and 16, but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed pages stay with mimalloc before it hands them back to the kernel, in ms.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

impl MiMalloc {
    /// Keeps the pages freed in one phase of a run for the next, instead of handing them back
    /// to the kernel 10 ms after they are freed (mimalloc's default; segments freed into its
    /// arenas wait ten times as long, so 100 ms then and 10 s now): the next phase faulted them
    /// in again, and the kernel zeroed each one (7-10% of the rules gallery's samples were
    /// `clear_page`; with this and the finer split of scripts across cores, 0.92x the wall
    /// time). [`give_back_freed`] still hands them back between phases when a large export
    /// holds more than [`GIVE_BACK_ABOVE`]. A `MIMALLOC_PURGE_DELAY` set in the environment is
    /// left to stand. For the binary to call first, when mimalloc is its allocator.
    pub fn keep_freed_pages() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: setting an option is allowed at any time, from any thread.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
    }
}

/// Whether a plain `mi_malloc` block of `size` bytes is aligned enough for `align`.
fn fits_plain_block(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it; a plain block is requested only
// when mimalloc's guaranteed alignment (`PLAIN_ALIGN` for blocks of at least that size, the
// block size below it) meets the layout's, and the aligned entry points serve all others.
unsafe impl std::alloc::GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: mimalloc accepts any size; the alignment is a power of two (a `Layout`'s is).
        unsafe {
            if fits_plain_block(layout.align(), layout.size()) {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if fits_plain_block(layout.align(), layout.size()) {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: the caller passes a block this allocator returned, which mimalloc allocated.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the block is mimalloc's; a moved block is allocated under the same rule as
        // `alloc`, so it is aligned for the layout at its new size.
        unsafe {
            if fits_plain_block(layout.align(), new_size) {
                libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout};

    #[test]
    fn the_purge_delay_option_is_the_one_keep_freed_pages_sets() {
        // Its default (10) at 15 and `use_numa_nodes`' (0) next to it: the enum is laid out as
        // the constant assumes. SAFETY: reading an option is allowed at any time.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(
                unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
                10
            );
            assert_eq!(
                unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY + 1) },
                0
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn resident_sizes_are_counted_in_bytes() {
        // 16 MiB written page by page is resident at once, so both counts are at least that;
        // a count in KiB read as bytes would be 1,024 times too small, one in bytes scaled as
        // KiB at least 16 GiB.
        let touched = std::hint::black_box(vec![1u8; 16 << 20]);
        assert!(touched.iter().step_by(4096).all(|&b| b == 1));
        for (what, bytes) in [("now", resident()), ("peak", peak_resident())] {
            assert!(bytes >= 16 << 20, "{what}: {bytes}");
            assert!(bytes < 8 << 30, "{what}: {bytes}");
        }
        drop(touched);
    }

    #[test]
    fn blocks_meet_every_layout_alignment_through_grow_and_shrink() {
        let allocator = MiMalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 3, 8, 12, 16, 20, 24, 40, 100, 1000, 5000, 70_000] {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: the layout has a non-zero size; each block is freed once, by the
                // allocator that made it, with the layout it now has.
                unsafe {
                    let block = allocator.alloc(layout);
                    assert!(!block.is_null());
                    assert_eq!(block as usize % align, 0, "{size} bytes at {align}");
                    block.write_bytes(7, size);
                    let zeroed = allocator.alloc_zeroed(layout);
                    assert_eq!(zeroed as usize % align, 0, "{size} zeroed bytes at {align}");
                    assert!((0..size).all(|i| *zeroed.add(i) == 0));
                    allocator.dealloc(zeroed, layout);
                    let mut current = layout;
                    let mut block = block;
                    for new_size in [size * 3 + 1, size / 2 + 1, size * 40] {
                        block = allocator.realloc(block, current, new_size);
                        assert_eq!(block as usize % align, 0, "{size} -> {new_size} bytes at {align}");
                        let kept = current.size().min(new_size).min(size);
                        assert!((0..kept).all(|i| *block.add(i) == 7), "{size} -> {new_size}");
                        current = Layout::from_size_align(new_size, align).unwrap();
                    }
                    allocator.dealloc(block, current);
                }
            }
        }
    }
}

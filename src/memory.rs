//! Handing freed heap memory back to the operating system between the pipeline's big steps.
//!
//! glibc keeps freed blocks below its (adaptive, up to 32 MB) mmap threshold in per-thread
//! arenas; between SRM iterations and metrics steps that retained memory stacked onto the next
//! step's peak (about 200 MB on paper workload B). Lowering the threshold instead cost 10 s
//! there (every large temporary page-faulted afresh), so the arenas are trimmed at the step
//! boundaries only.

/// Returns free arena memory to the system (glibc); a no-op elsewhere.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; no pointer is passed.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The system allocator, asking for transparent huge pages on every large block.
///
/// On the 2-core VM the benchmarks run on, a first touch of a fresh 4 KiB page cost about
/// 12 µs: a new 64 MB k × T matrix took 0.2 s to fault in, more than the product written into
/// it (workload B's E-step ran at 45 GFlop/s instead of 170). With `madvise(MADV_HUGEPAGE)`
/// (honoured where THP is in "madvise" mode, the common default) one fault maps 2 MiB.
pub struct HugePageAlloc;

/// Blocks from this size on are advised; smaller ones rarely span a whole huge page.
const ADVISE_FROM: usize = 8 << 20;
const HUGE_PAGE: usize = 2 << 20;

fn advise(ptr: *mut u8, size: usize) {
    #[cfg(target_os = "linux")]
    if !ptr.is_null() && size >= ADVISE_FROM {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + size) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: [start, end) lies inside the block just allocated; MADV_HUGEPAGE only
            // changes how its pages are backed, never their contents. A failure (THP off,
            // old kernel) leaves ordinary pages, so the result is ignored.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, size);
}

// SAFETY: every call forwards to `System` with the caller's layout; `advise` does not touch
// the memory's contents or ownership.
unsafe impl std::alloc::GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` (a non-zero-size layout) passes through.
        let p = unsafe { std::alloc::System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`; the caller guarantees `new_size`.
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        p
    }
}

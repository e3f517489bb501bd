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

//! The binary's memory allocators: jemalloc for everything Rust allocates,
//! and glibc's malloc, still used by C code (SQLite), tuned for a daemon.

/// jemalloc rather than the C library's allocator: a first poll of 20,000
/// items spent a tenth of its CPU in glibc's malloc and free, and its
/// threads waited on the arenas' locks (benches/pipeline.rs: 10.7 s →
/// 9.0 s). mimalloc was as fast but peaked at 190–300 MiB. Without the
/// `jemalloc` feature (`--no-default-features`: building jemalloc needs
/// make), and with MSVC, where jemalloc does not build, the system
/// allocator stays.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
mod jemalloc {
    #[global_allocator]
    static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

    /// Freed pages go back to the system after a quarter second, not ten
    /// (jemalloc's default), purged by jemalloc's own thread rather than by
    /// whichever thread allocates next: a poll's pages come and go in
    /// bursts, and kept ten seconds they held a first poll above 100 MiB;
    /// purged only on allocation, an idle daemon kept 115–125 MiB where it
    /// now keeps about 100 (benches/daemon_memory.rs). `_RJEM_MALLOC_CONF`
    /// in the environment still overrides it.
    #[unsafe(export_name = "_rjem_malloc_conf")]
    static MALLOC_CONF: MallocConf =
        MallocConf(c"background_thread:true,dirty_decay_ms:250,muzzy_decay_ms:0".as_ptr());

    /// A C string jemalloc reads at start-up, as the `const char *` it
    /// expects.
    #[repr(transparent)]
    struct MallocConf(*const std::ffi::c_char);
    // SAFETY: it points at a constant string, never written.
    unsafe impl Sync for MallocConf {}
}

/// glibc tuning for a long-running daemon, for what C code (SQLite's page
/// cache and statements) still allocates there. Every thread that allocates
/// gets its own heap arena (up to eight per core) and the daemon's
/// blocking threads come and go; and glibc raises its mmap threshold each
/// time a large block is freed, so the next large buffers land in the
/// heap, which it rarely gives back. Two arenas and a fixed 1 MiB
/// threshold keep the resident size flat.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn tune_malloc() {
    // SAFETY: mallopt only changes allocator tuning; called before any
    // thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn tune_malloc() {}

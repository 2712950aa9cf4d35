// The heap a fuzz input takes, through AddressSanitizer's allocation hooks: bytes live
// and their peak since `begin`, so a target can assert that what one call allocates
// stays within the memory budget it was given (not RSS, which the allocator keeps).
@_silgen_name("__sanitizer_install_malloc_and_free_hooks")
func installMallocAndFreeHooks(_ malloc: @convention(c) (UnsafeRawPointer?, Int) -> Void,
                               _ free: @convention(c) (UnsafeRawPointer?) -> Void) -> CInt
@_silgen_name("__sanitizer_get_allocated_size")
func allocatedSize(_ p: UnsafeRawPointer?) -> Int

nonisolated(unsafe) var heapLive = 0
nonisolated(unsafe) var heapPeak = 0
nonisolated(unsafe) var heapInstalled = false

public enum HeapWatch {
    /// Starts counting (once per process); allocations are single-threaded in the targets.
    public static func install() {
        guard !heapInstalled else { return }
        heapInstalled = true
        _ = installMallocAndFreeHooks({ _, n in
            heapLive += n
            if heapLive > heapPeak { heapPeak = heapLive }
        }, { p in
            heapLive -= allocatedSize(p)
        })
    }

    /// Resets the peak to what is live now; returns it.
    public static func begin() -> Int {
        install()
        heapPeak = heapLive
        return heapLive
    }

    /// The most bytes live since `begin`, less those live at `begin`.
    public static func peak(since start: Int) -> Int { heapPeak - start }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The steps of the forward pass, taken from the forward pass itself (TFLite Micro's
/// `micro_allocation_info`: lifetimes come from the operators that run, not from a second,
/// hand-kept list of them). Planning runs the model's own forward function once on a
/// kernel set that carries a trace: every operation, instead of computing, records which
/// planned buffers its pointers fall in, as one step (`Kernels.plans`).
///
/// The pointers it is handed point into address space reserved with no access: each
/// declared buffer gets its own range, in declaration order, with a gap after it. An
/// operation that touched activation memory without recording it first would fault here,
/// while the session is being planned, instead of reading a buffer some other step shares.
final class StepTrace {
    /// Where the buffers' ranges start (reserved, never readable or writable).
    let base: UnsafeMutableRawPointer
    /// Each declared buffer's offset from `base` (declaration order, disjoint ranges).
    let offsets: [Int]
    private let ends: [Int]
    private let reserved: Int
    /// For each step in program order, the buffers it touched (indices into the requests).
    private(set) var steps: [[Int]] = []

    init(_ requests: [BufferRequest]) {
        var offsets: [Int] = [], ends: [Int] = []
        var o = 0
        for r in requests {
            offsets.append(o)
            ends.append(o + r.bytes)
            o += alignUp(r.bytes, 64) + 64  // the gap: a pointer one past a buffer's end is still that buffer's
        }
        (self.offsets, self.ends, reserved) = (offsets, ends, max(o, 64))
        if let m = mmap(nil, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), m != MAP_FAILED {
            base = m
        } else {
            // No reservation (a tiny address space): a high address no allocator hands out.
            base = UnsafeMutableRawPointer(bitPattern: 1 << 46)!
        }
    }

    deinit {
        if base != UnsafeMutableRawPointer(bitPattern: 1 << 46) { munmap(base, reserved) }
    }

    /// One step touching the buffers these pointers fall in (nil pointers: unused operands).
    func record(_ pointers: [UnsafeRawPointer?]) {
        var step: [Int] = []
        for case let p? in pointers {
            let d = p - UnsafeRawPointer(base)
            // The last buffer starting at or before d.
            var (lo, hi) = (0, offsets.count)
            while lo < hi {
                let mid = (lo + hi) / 2
                if offsets[mid] <= d { lo = mid + 1 } else { hi = mid }
            }
            precondition(lo > 0 && d <= ends[lo - 1],
                         "an operation of the forward pass was handed memory outside the planned buffers")
            step.append(lo - 1)
        }
        steps.append(step)
    }
}

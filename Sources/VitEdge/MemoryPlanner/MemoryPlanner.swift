/// Memory planning in the manner of TFLite Micro's `memory_planner/`: buffers
/// are (size, first use, last use); a planner assigns each an offset in one arena
/// so that no two buffers alive at the same step overlap.

/// One buffer of the forward pass: its size and the steps (inclusive) it lives.
package struct BufferRequest: Equatable, Sendable {
    package var name: String
    package var bytes: Int
    package var firstUse: Int
    package var lastUse: Int

    package init(name: String, bytes: Int, firstUse: Int, lastUse: Int) {
        self.name = name
        self.bytes = bytes
        self.firstUse = firstUse
        self.lastUse = lastUse
    }

    func livesWith(_ o: BufferRequest) -> Bool { firstUse <= o.lastUse && o.firstUse <= lastUse }
}

/// Offsets for each request (same order) and the arena size they need.
package struct MemoryPlan: Equatable, Sendable {
    package var offsets: [Int]
    package var arenaBytes: Int
}

package protocol MemoryPlanner {
    func plan(_ buffers: [BufferRequest], alignment: Int) -> MemoryPlan
}

/// The trivial planner: every buffer after the previous one, never shared. Its
/// arena size is the naive sum of all intermediates; it is the reference the
/// greedy planner is compared with.
package struct LinearMemoryPlanner: MemoryPlanner {
    package init() {}

    package func plan(_ buffers: [BufferRequest], alignment: Int = 64) -> MemoryPlan {
        var offsets: [Int] = []
        var end = 0
        for b in buffers {
            offsets.append(end)
            end = alignUp(end + b.bytes, alignment)
        }
        return MemoryPlan(offsets: offsets, arenaBytes: end)
    }
}

/// Greedy by size: place the largest buffers first, each in the smallest gap
/// left between the already placed buffers whose lifetimes it overlaps (best fit),
/// or after them. Deterministic: ties break on first use, then request order.
package struct GreedyMemoryPlanner: MemoryPlanner {
    package init() {}

    package func plan(_ buffers: [BufferRequest], alignment: Int = 64) -> MemoryPlan {
        let order = buffers.indices.sorted { a, b in
            let x = buffers[a], y = buffers[b]
            if x.bytes != y.bytes { return x.bytes > y.bytes }
            if x.firstUse != y.firstUse { return x.firstUse < y.firstUse }
            return a < b
        }
        var offsets = [Int](repeating: -1, count: buffers.count)
        var placed: [Int] = []
        var arena = 0
        for i in order {
            let b = buffers[i]
            let size = alignUp(b.bytes, alignment)
            // The placed buffers alive at the same time, by offset.
            let live = placed.filter { buffers[$0].livesWith(b) }.sorted { offsets[$0] < offsets[$1] }
            var best: (offset: Int, gap: Int)? = nil
            var cursor = 0
            for j in live {
                let gap = offsets[j] - cursor
                if gap >= size && (best == nil || gap < best!.gap) { best = (cursor, gap) }
                cursor = max(cursor, offsets[j] + alignUp(buffers[j].bytes, alignment))
            }
            let offset = best?.offset ?? cursor
            offsets[i] = offset
            placed.append(i)
            arena = max(arena, offset + size)
        }
        return MemoryPlan(offsets: offsets, arenaBytes: arena)
    }
}

extension MemoryPlan {
    /// The first pair of buffers that are alive together and overlap in memory, or nil.
    package func firstConflict(_ buffers: [BufferRequest]) -> (Int, Int)? {
        for i in buffers.indices {
            for j in buffers.indices where j > i && buffers[i].livesWith(buffers[j]) {
                let a = offsets[i]..<(offsets[i] + buffers[i].bytes)
                let b = offsets[j]..<(offsets[j] + buffers[j].bytes)
                if a.overlaps(b) { return (i, j) }
            }
        }
        return nil
    }

    /// A table of the plan: one line per buffer, with its offset, size and
    /// lifetime drawn on a step axis.
    package func render(_ buffers: [BufferRequest], maxRows: Int = 40) -> String {
        let steps = (buffers.map { $0.lastUse }.max() ?? 0) + 1
        let width = min(steps, 60)
        var lines: [String] = []
        // Names in full, padded to the longest shown (`blocks.11.attention_int8`, `t2t.0.blocks.0.norm1`).
        let column = max(18, buffers.prefix(maxRows).map { $0.name.count }.max() ?? 0)
        for (i, b) in buffers.enumerated().prefix(maxRows) {
            var bar = [Character](repeating: ".", count: width)
            for s in b.firstUse...b.lastUse { bar[s * width / steps] = "#" }
            let name = b.name + String(repeating: " ", count: column - b.name.count)
            lines.append("  \(name) offset \(pad(offsets[i], 10)) bytes \(pad(b.bytes, 10))  \(String(bar))")
        }
        if buffers.count > maxRows { lines.append("  ... \(buffers.count - maxRows) more buffers") }
        return lines.joined(separator: "\n")
    }

    private func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: " ", count: max(0, n - s.count)) + s
    }
}

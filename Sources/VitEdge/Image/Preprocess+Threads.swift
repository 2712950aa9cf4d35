import _VitKernels

/// One large image's preprocessing on a pool's threads (`Preprocessor.apply(_:into:pool:)`):
/// the output rows cut into one part per thread, each part resampling the source rows its
/// outputs read (a few rows at each cut twice) with its own buffers (`Preprocessor.Part`),
/// then normalising its rows. The same samples as on one thread.
extension Preprocessor {
    /// Source pixels from which an image's rows are split across a pool (a 640×480 frame is;
    /// a 224×224 one, 0.1–0.2 ms, is not worth a dispatch).
    package static let parallelPixels = 1 << 17

    /// Whether this image is split across `workers` threads; if so, `rowSplit` and `parts`
    /// are ready for them (at least 8 output rows a part, within the memory budget).
    func splitRows(workers: Int) -> Bool {
        let n = min(workers, vertical.outputs / 8)
        guard n > 1, useBytes, !vertical.identity, vertical.tapsHeld, width * height >= Self.parallelPixels,
              scratchBytes * workers <= budget else { return false }
        if rowSplit.count != n {
            let outputs = vertical.outputs
            rowSplit = (0..<n).map { i in
                let r = (i * outputs / n)..<((i + 1) * outputs / n)
                return (r, vertical.slice(r))
            }
        }
        while parts.count < workers { parts.append(Part()) }
        return true
    }

    /// Part `task` of `rowSplit`, on pool worker `worker`.
    func runPart(_ task: Int, worker: Int, _ j: PreprocessJob) {
        let (rows, axis) = rowSplit[task]
        resample8(j.view, vertical: axis, part: parts[worker], into: j.result + rows.lowerBound * config.imageWidth * channels)
        normalize(j.result, table: j.table, rows: rows, into: j.out)
    }
}

/// One image's rows split across a pool (`Preprocessor.apply(_:into:pool:)`), passed to the
/// C pool by pointer: no allocation.
struct PreprocessJob {
    let preprocessor: Unmanaged<Preprocessor>
    let view: ImageView
    let result: UnsafeMutablePointer<UInt8>
    let table: UnsafePointer<Float>
    let out: UnsafeMutablePointer<Float>
}

let preprocessTask: vk_task_fn = { context, task, worker in
    let j = context!.assumingMemoryBound(to: PreprocessJob.self).pointee
    j.preprocessor._withUnsafeGuaranteedRef { $0.runPart(task, worker: worker, j) }
}

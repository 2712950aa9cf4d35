#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The next input prepared on its own thread while the forward pass runs: the decoding
/// and preprocessing of image (or camera frame) N+1 overlap the forward pass of image N,
/// so that with two cores the rate is bound by the forward pass alone.
///
/// One producer thread calls `produce` with a free input buffer ([C, H, W] floats) to fill;
/// it returns what the consumer needs to know about the item (a name, a frame's arrival
/// time), nil at the end, or throws for an item that could not be prepared (reported in
/// its place: order is kept). At most `depth` items wait, prepared: with depth 1 (camera
/// streams) the producer starts on the next item only when the consumer has taken the
/// last one, so a stream skipping to its newest frame is not served a frame prepared a
/// forward pass ago and then another; a batch of B images wants depth B, so that the
/// next batch is prepared while the forward pass runs the current one. depth + 1 buffers,
/// allocated once: preparing allocates nothing beyond what `produce` does.
package final class InputPipeline<Meta>: @unchecked Sendable {
    /// A prepared item: its buffer (read it, then `recycle` it) and what `produce` said,
    /// or the error it threw (no buffer then).
    package struct Item {
        package let buffer: UnsafePointer<Float>?
        package let result: Result<Meta, Error>
        let slot: Int
    }

    let produce: (UnsafeMutablePointer<Float>) throws -> Meta?
    let buffers: [UnsafeMutablePointer<Float>]
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let depth: Int
    // Under the mutex:
    var free: [Int]
    var ready: [Item] = []
    var ended = false
    var stopping = false
    var running = false

    /// `inputCount`: floats of one input; `produce` runs on the pipeline's thread only.
    package init(inputCount: Int, depth: Int = 1, produce: @escaping (UnsafeMutablePointer<Float>) throws -> Meta?) {
        self.produce = produce
        self.depth = max(depth, 1)
        buffers = (0...max(depth, 1)).map { _ in
            let b = UnsafeMutablePointer<Float>.allocate(capacity: max(inputCount, 1))
            b.initialize(repeating: 0, count: max(inputCount, 1))
            return b
        }
        free = Array(buffers.indices)
        ready.reserveCapacity(self.depth)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Starts the producer thread; false if no thread could be made (run without a pipeline then).
    package func start() -> Bool {
        // A C thread entry cannot name a generic class: it runs a non-generic box that
        // holds the loop (and, through it, the pipeline) until the loop returns.
        let box = Unmanaged.passRetained(ThreadBody { self.produceLoop() }).toOpaque()
        var thread = pthread_t()
        running = true
        guard pthread_create(&thread, nil, { arg in
            Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, box) == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            running = false
            return false
        }
        pthread_detach(thread)
        return true
    }

    func produceLoop() {
        while true {
            pthread_mutex_lock(mutex)
            while !stopping && (ready.count >= depth || free.isEmpty) { pthread_cond_wait(cond, mutex) }
            if stopping {
                ended = true
                running = false
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
                return
            }
            let slot = free.removeLast()
            pthread_mutex_unlock(mutex)
            let item: Item?
            do {
                item = try produce(buffers[slot]).map { Item(buffer: UnsafePointer(buffers[slot]), result: .success($0), slot: slot) }
            } catch {
                item = Item(buffer: nil, result: .failure(error), slot: slot)
            }
            pthread_mutex_lock(mutex)
            if let item {
                if item.buffer == nil { free.append(slot) }
                if !stopping { ready.append(item) } else if item.buffer != nil { free.append(slot) }
            } else {
                free.append(slot)
                ended = true
                running = false
            }
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
            if item == nil { return }
        }
    }

    /// The next prepared item, in order, waiting for it; nil after the last.
    package func take() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while ready.isEmpty && !ended { pthread_cond_wait(cond, mutex) }
        guard !ready.isEmpty else { return nil }
        let item = ready.removeFirst()
        pthread_cond_broadcast(cond)
        return item
    }

    /// The next prepared item if one is waiting now, else nil (without waiting): a batch
    /// takes what is ready and runs, rather than wait for the producer to fill it.
    package func takeIfReady() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !ready.isEmpty else { return nil }
        let item = ready.removeFirst()
        pthread_cond_broadcast(cond)
        return item
    }

    /// Gives an item's buffer back (after copying it into the session's input). Every item
    /// taken must be given back, whether its buffer was read or not (a no-op for failures):
    /// the producer has depth + 1 buffers and waits for one.
    package func recycle(_ item: Item) {
        guard item.buffer != nil else { return }
        pthread_mutex_lock(mutex)
        free.append(item.slot)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Asks the producer to stop after the item it is preparing (the consumer ends early).
    /// Does not wait: the thread keeps the pipeline alive until it has stopped.
    package func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        ready.removeAll()
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until the producer thread has returned (tests).
    func waitUntilStopped() {
        pthread_mutex_lock(mutex)
        while running { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }
}

/// What a thread runs (see `InputPipeline.start`).
final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

import XCTest
import Foundation
@testable import VitEdge

/// The next input prepared on its own thread while the forward pass runs: items come
/// back in order with their failures in place; `run` with two threads (pipelined) prints
/// exactly what it prints with one (as does `embed`, batches prepared a batch ahead), for files given as many paths (one pipeline across
/// them, an unreadable one among them), one photo (not pipelined: its rows split) and camera
/// streams. `make tsan` runs the pipelined paths under ThreadSanitizer.
final class InputPipelineTests: CLITestCase {
    func testItemsComeInOrderWithFailuresInPlace() {
        // Depth 1 (camera streams: one item waits) and 4 (a batch prepared ahead).
        for depth in [1, 4] {
            struct Odd: Error {}
            var next = 0
            let pipeline = InputPipeline<Int>(inputCount: 4, depth: depth) { buffer in
                defer { next += 1 }
                guard next < 50 else { return nil }
                if next % 7 == 3 { throw Odd() }
                for i in 0..<4 { buffer[i] = Float(next * 10 + i) }
                return next
            }
            XCTAssertTrue(pipeline.start())
            var seen: [Int] = [], failed: [Int] = []
            var position = 0
            while let item = pipeline.take() {
                switch item.result {
                case .success(let n):
                    XCTAssertEqual(n, position)
                    XCTAssertEqual((0..<4).map { item.buffer![$0] }, (0..<4).map { Float(n * 10 + $0) })
                    seen.append(n)
                case .failure:
                    XCTAssertNil(item.buffer)
                    failed.append(position)
                }
                pipeline.recycle(item)
                position += 1
                if position == 20 {
                    // A slow consumer: the producer runs ahead by exactly `depth` items, no
                    // more (waited for up to 5 s: emulated CPUs are slow; then held 20 ms).
                    func waiting() -> Int {
                        pthread_mutex_lock(pipeline.mutex)
                        defer { pthread_mutex_unlock(pipeline.mutex) }
                        return pipeline.ready.count
                    }
                    for _ in 0..<500 where waiting() < depth { usleep(10_000) }
                    usleep(20_000)
                    XCTAssertEqual(waiting(), depth, "depth \(depth)")
                }
                if position % 5 == 0 { usleep(2000) }
            }
            XCTAssertEqual(failed, (0..<50).filter { $0 % 7 == 3 }, "depth \(depth)")
            XCTAssertEqual(seen.count + failed.count, 50, "depth \(depth)")
        }
    }

    func testStoppingEarlyEndsTheThread() {
        let pipeline = InputPipeline<Int>(inputCount: 1) { _ in 1 }  // endless
        XCTAssertTrue(pipeline.start())
        for _ in 0..<3 { if let item = pipeline.take() { pipeline.recycle(item) } }
        pipeline.stop()
        pipeline.waitUntilStopped()
        XCTAssertNil(pipeline.take())
    }

    func testPipelinedRunPrintsWhatASequentialRunPrints() throws {
        // A few photos of each kind, an unreadable path among them (a folder of 64 adds
        // minutes under qemu and proves nothing more about order).
        let images = fixture("images")
        let files = ["/jpeg-420.jpg", "/png-rgba16.png", "/jpeg-progressive.jpg", "/png-gray1.png"].map { images + $0 }
            + [repoFile("models/photos/digit7.jpg"), "/nonexistent/photo.jpg", sample("test-00000-digit7.pgm")]
        let one = try vitEdge(["run", model] + files + ["--json", "--threads", "1"])
        let two = try vitEdge(["run", model] + files + ["--json", "--threads", "2"])
        XCTAssertEqual(one.status, 1)
        XCTAssertEqual(two.status, 1)
        XCTAssertEqual(two.out, one.out)
        XCTAssertEqual(two.err, one.err)
        XCTAssertEqual(one.out.split(separator: "\n").count, 6, one.out)
        // Batches prepared a batch ahead: `run --batch 3` and `embed` (default batch 16, and 2).
        let batched = try vitEdge(["run", model] + files + ["--json", "--threads", "2", "--batch", "3"])
        XCTAssertEqual(batched.status, 1)
        XCTAssertEqual(batched.out, one.out)
        XCTAssertEqual(batched.err, one.err)
        let embed1 = try vitEdge(["embed", model] + files + ["--threads", "1"])
        for extra in [[String](), ["--batch", "2"]] {
            let embed2 = try vitEdge(["embed", model] + files + ["--threads", "2"] + extra)
            XCTAssertEqual(embed2.status, 1)
            XCTAssertEqual(embed2.out, embed1.out, "embed \(extra)")
            XCTAssertEqual(embed2.err, embed1.err, "embed \(extra)")
        }
        XCTAssertEqual(embed1.out.split(separator: "\n").count, 6, embed1.out)
        // One photo is not pipelined: its rows are preprocessed on both threads instead.
        let photo1 = try vitEdge(["run", model, repoFile("models/photos/digit7.jpg"), "--json", "--threads", "1"])
        let photo2 = try vitEdge(["run", model, repoFile("models/photos/digit7.jpg"), "--json", "--threads", "2"])
        XCTAssertEqual(photo2.status, 0, photo2.err)
        XCTAssertEqual(photo2.out, photo1.out)

        // A camera stream (MJPEG: the same photo 12 times, a damaged frame in the middle).
        let photo = try Data(contentsOf: URL(fileURLWithPath: repoFile("models/photos/digit7.jpg")))
        var stream = Data()
        for i in 0..<12 { stream += i == 6 ? photo.prefix(photo.count / 2) + Data([0xFF, 0xD9]) : photo }
        func frames(_ threads: String) throws -> [String] {
            let r = try vitEdge(["run", model, "-", "--frames", "all", "--json", "--threads", threads], stdin: stream)
            XCTAssertEqual(r.status, 1, r.err)
            XCTAssertTrue(r.err.contains("stdin frame #6"), r.err)
            // Latencies differ from run to run; the answers do not.
            return r.out.split(separator: "\n").map { $0.replacingOccurrences(of: #""latency_ms":[0-9.]+,"#, with: "", options: .regularExpression) }
        }
        let a = try frames("1"), b = try frames("2")
        XCTAssertEqual(a.count, 11)
        XCTAssertEqual(a, b)
    }
}

// The public Swift API as a client sees it: plain `import VitEdge`, no @testable, built
// without package access (Package.swift), so `package` declarations are out of reach. If a client needs something these tests cannot reach, it is missing from
// the public surface (docs/API.md).
import VitEdge
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class PublicAPITests: XCTestCase {
    static let root: String = {
        var dir = #filePath
        for _ in 0..<3 { dir = String(dir[..<dir.lastIndex(of: "/")!]) }
        return dir
    }()
    func repo(_ path: String) -> String { Self.root + "/" + path }
    var digit7: String { repo("models/samples/test-00000-digit7.pgm") }
    var digit2: String { repo("models/samples/test-00001-digit2.pgm") }

    func testVersionIsSemantic() {
        let parts = Engine.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3)
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil }, Engine.version)
        XCTAssertEqual(Engine.cABIVersion, 1)
    }

    func testClassifyAFileAndReadEveryOutput() throws {
        let model = try Model(path: repo("models/mnist-vit-int8.vitq"))
        XCTAssertEqual(model.info.architecture, "vit")
        XCTAssertEqual(model.info.classes, 10)
        XCTAssertEqual(model.info.imageWidth, 28)
        XCTAssertTrue(model.info.int8)
        let session = try Session(model: model)
        try session.setImage(path: digit7)
        try session.run()
        let top = try session.top(3)
        XCTAssertEqual(top.map(\.index).first, 7)
        XCTAssertEqual(top.first?.label, "7")
        XCTAssertGreaterThan(top[0].probability, 0.5)
        XCTAssertGreaterThanOrEqual(top[0].probability, top[1].probability)
        // Probabilities are the softmax of the logits.
        let logits = try session.logits()
        let p = try session.probabilities()
        let m = logits.max()!
        let e = logits.map { exp(Double($0 - m)) }
        for i in 0..<10 { XCTAssertEqual(Double(p[i]), e[i] / e.reduce(0, +), accuracy: 1e-5) }
        XCTAssertEqual(try session.embedding().count, model.info.embeddingSize)
        // Every token after the final norm: the class token first (its row is the embedding).
        let tokens = try session.tokens()
        XCTAssertEqual(tokens.count, model.info.tokens * model.info.width)
        XCTAssertEqual([model.info.prefixTokens, model.info.patchRows, model.info.patchColumns], [1, 7, 7])
        XCTAssertEqual(Array(tokens.prefix(model.info.width)), try session.embedding())
        // The borrowed view shows the same numbers as the copy.
        let borrowed = try session.withOutput(.probabilities) { Array($0) }
        XCTAssertEqual(borrowed, p)
        XCTAssertEqual(session.count(of: .logits), 10)
    }

    func testPixelsFileBytesAndBatchAgree() throws {
        let model = try Model(path: repo("models/mnist-vit.vitq"))
        let single = try Session(model: model)
        try single.setImage(path: digit7)
        try single.run()
        let fromFile = try single.probabilities()

        // The same digit as decoded pixels, with a row stride wider than the row.
        let image = try Image.load(path: digit7)
        guard case .bytes(let bytes) = image.pixels else { return XCTFail("an 8-bit PGM decodes to bytes") }
        var strided = [UInt8](repeating: 0, count: 32 * image.height)
        for y in 0..<image.height { for x in 0..<image.width { strided[y * 32 + x] = bytes[y * image.width + x] } }
        try strided.withUnsafeBytes {
            try single.setPixels(ImageView(format: .gray8, width: image.width, height: image.height, data: $0.baseAddress!, rowBytes: 32))
        }
        try single.run()
        XCTAssertEqual(try single.probabilities(), fromFile)

        // Encoded bytes in memory, and a batch of two: the same numbers image by image.
        let batch = try Session(model: model, batchSize: 2)
        try batch.setImage(path: digit2, at: 0)
        try batch.setImage(encoded: Array(try readFile(digit7)), at: 1)
        try batch.run()
        XCTAssertEqual(try batch.probabilities(image: 1), fromFile)
        XCTAssertEqual(try batch.top(1, image: 0).first?.index, 2)

        // A model loaded from memory gives the same numbers.
        let fromBytes = try Model(bytes: Array(try readFile(repo("models/mnist-vit.vitq"))))
        let s = try Session(model: fromBytes)
        try s.setImage(path: digit7)
        try s.run()
        XCTAssertEqual(try s.probabilities(), fromFile)
    }

    func testErrorsHaveStableCodes() throws {
        XCTAssertThrowsError(try Model(path: "/nonexistent/model.vitq")) { XCTAssertEqual(($0 as? VitError)?.code, .io) }
        XCTAssertThrowsError(try Model(path: digit7)) { XCTAssertEqual(($0 as? VitError)?.code, .badModel) }
        XCTAssertThrowsError(try Model(bytes: [1, 2, 3])) { XCTAssertEqual(($0 as? VitError)?.code, .badModel) }
        let model = try Model(path: repo("models/mnist-vit-int8.vitq"))
        XCTAssertThrowsError(try Session(model: model, batchSize: 0)) { XCTAssertEqual(($0 as? VitError)?.code, .invalidArgument) }
        let session = try Session(model: model, batchSize: 2)
        // Out of order: run before the images, read before a run, read after the next image.
        XCTAssertThrowsError(try session.run()) { XCTAssertEqual(($0 as? VitError)?.code, .invalidState) }
        XCTAssertThrowsError(try session.top(1)) { XCTAssertEqual(($0 as? VitError)?.code, .invalidState) }
        try session.setImage(path: digit7, at: 0)
        XCTAssertThrowsError(try session.run()) { XCTAssertEqual(($0 as? VitError)?.code, .invalidState) }
        try session.run(count: 1)
        XCTAssertThrowsError(try session.logits(image: 1)) { XCTAssertEqual(($0 as? VitError)?.code, .invalidArgument) }
        XCTAssertNoThrow(try session.logits(image: 0))
        try session.setImage(path: digit2, at: 0)
        XCTAssertThrowsError(try session.logits(image: 0)) { XCTAssertEqual(($0 as? VitError)?.code, .invalidState) }
        XCTAssertThrowsError(try session.setImage(path: digit2, at: 2)) { XCTAssertEqual(($0 as? VitError)?.code, .invalidArgument) }
        XCTAssertThrowsError(try session.setImage(path: repo("Makefile"))) { XCTAssertEqual(($0 as? VitError)?.code, .badImage) }
        XCTAssertThrowsError(try session.setImage(encoded: [0xFF, 0xD8, 0xFF, 0xE0])) { XCTAssertEqual(($0 as? VitError)?.code, .badImage) }
        let tiny = Options(limits: ResourceLimits(budget: 1 << 10))
        XCTAssertThrowsError(try Model(path: repo("models/mnist-vit.vitq"), options: tiny)) {
            XCTAssertEqual(($0 as? VitError)?.code, .tooLarge)
        }
        // Every code is distinct and stays what docs/API.md says.
        XCTAssertEqual(VitError.Code.allCases.map(\.rawValue), [1, 2, 3, 4, 5, 7, 8, 9, 10])
    }
    typealias Options = Model.Options

    func testAttentionMapsAndOtherFamilies() throws {
        let model = try Model(path: repo("models/mnist-vit.vitq"))
        let session = try Session(model: model, attentionBlocks: [0])
        try session.setImage(path: digit7)
        try session.run()
        let t = model.info.tokens
        let map = try XCTUnwrap(try session.attention(block: 0))
        XCTAssertEqual(map.count, model.info.attentionHeads * t * t)
        for row in 0..<model.info.attentionHeads * t {
            XCTAssertEqual(map[row * t..<(row + 1) * t].reduce(0, +), 1, accuracy: 1e-4)
        }
        XCTAssertNil(try session.attention(block: 1))

        let mixer = try Model(path: repo("models/mnist-mixer-int8.vitq"))
        XCTAssertEqual(mixer.info.architecture, "mixer")
        XCTAssertEqual(mixer.info.attentionHeads, 0)
        XCTAssertThrowsError(try Session(model: mixer, attentionBlocks: [0])) { XCTAssertEqual(($0 as? VitError)?.code, .invalidArgument) }
        let s = try Session(model: mixer)
        try s.setImage(path: digit7)
        try s.run()
        XCTAssertEqual(try s.top(1).first?.index, 7)
        XCTAssertThrowsError(try Model(path: repo("models/mnist-mixer.vitq"), options: .init(imageSize: (56, 56)))) {
            XCTAssertEqual(($0 as? VitError)?.code, .invalidArgument)
        }
        // A ViT runs at another size (positions resampled).
        let big = try Model(path: repo("models/mnist-vit.vitq"), options: .init(kernels: .reference, imageSize: (56, 56)))
        XCTAssertEqual(big.info.imageWidth, 56)
    }

    /// One model, sessions on several threads: every thread gets the single-thread answer.
    func testOneModelSharedBySessionsOnThreads() throws {
        let model = try Model(path: repo("models/mnist-vit-int8.vitq"))
        let paths = [digit7, digit2]
        var expected: [[Float]] = []
        let s = try Session(model: model)
        for p in paths { try s.setImage(path: p); try s.run(); expected.append(try s.probabilities()) }
        final class Box: @unchecked Sendable { var mismatches = [Int](repeating: 0, count: 4) }
        let box = Box()
        let threads = (0..<4).map { id in
            Thread {
                guard let session = try? Session(model: model) else { box.mismatches[id] = -1; return }
                for round in 0..<20 {
                    let i = (round + id) % paths.count
                    let ok = (try? session.setImage(path: paths[i])) != nil && (try? session.run()) != nil
                    if !ok || (try? session.probabilities()) != expected[i] { box.mismatches[id] += 1 }
                }
            }
        }
        threads.forEach { $0.start() }
        threads.forEach { $0.join() }
        XCTAssertEqual(box.mismatches, [0, 0, 0, 0])
    }

    func readFile(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw VitError.io(path: path, reason: "cannot open") }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}

/// A thread running a closure, joined by waiting on a semaphore (no Foundation).
final class Thread: @unchecked Sendable {
    let body: () -> Void
    var handle = pthread_t()
    init(_ body: @escaping () -> Void) { self.body = body }
    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&handle, nil, { raw in
            let t = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
            t.body()
            return nil
        }, box)
    }
    func join() { pthread_join(handle, nil) }
}

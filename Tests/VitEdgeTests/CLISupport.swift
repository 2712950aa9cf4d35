import XCTest
import Foundation
@testable import VitEdge

/// Tests that run the real `vit-edge` binary (built beside the test bundle).
class CLITestCase: XCTestCase {
    var binary: String {
        // Under emulation (make test-aarch64) the aarch64 binary is started through a
        // wrapper that puts qemu in front of it: there is no binfmt_misc to do so.
        if let wrapper = ProcessInfo.processInfo.environment["VIT_EDGE_BINARY"] { return wrapper }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var path = dir.appendingPathComponent("vit-edge").path
        if !FileManager.default.fileExists(atPath: path) {
            // xctest runner: the bundle path is an argument.
            if let bundle = CommandLine.arguments.first(where: { $0.hasSuffix(".xctest") }) {
                path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("vit-edge").path
            }
        }
        return path
    }

    struct Result { var status: Int32; var out: String; var err: String }

    let model = repoFile("models/mnist-vit.vitq")
    func sample(_ name: String) -> String { repoFile("models/samples/" + name) }

    func vitEdge(_ args: [String], stdin: Data? = nil, environment: [String: String]? = nil,
                 stdout: FileHandle? = nil) throws -> Result {
        guard FileManager.default.fileExists(atPath: binary) else {
            XCTFail("vit-edge binary not built at \(binary): run `swift build -c release` first (make test does)")
            throw VitError.invalidArgument("no binary")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = stdout ?? out
        p.standardError = err
        let input = Pipe()
        if stdin != nil { p.standardInput = input }
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        if stdout != nil { try out.fileHandleForWriting.close() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }


    /// Runs the binary under GNU time (`time` is in `make deps`) with standard input from
    /// `stdin` (a file) and returns its status, stderr without time's line, and its peak
    /// resident memory in MiB. The child is started by `time`, not by this (large) test
    /// process, so its high-water mark is its own.
    func vitEdgeMeasured(_ args: [String], stdin: String? = nil) throws -> (status: Int32, err: String, peakMiB: Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        p.arguments = ["-f", "peak-rss-kib %M", binary] + args
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        if let stdin { p.standardInput = FileHandle(forReadingAtPath: stdin) }
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var lines = e.split(separator: "\n").map(String.init)
        guard let last = lines.popLast(), last.hasPrefix("peak-rss-kib "), let kib = Double(last.dropFirst(13)) else {
            XCTFail("no peak RSS from /usr/bin/time: \(e)")
            return (p.terminationStatus, e, .infinity)
        }
        lines.removeAll { $0.hasPrefix("Command exited with non-zero status") }
        // time reports the child's status as its own.
        return (p.terminationStatus, lines.joined(separator: "\n"), kib / 1024)
    }

    /// Memory bounds hold for the release binary; under a sanitizer (make sanitize sets
    /// VIT_EDGE_SANITIZED) its shadow memory is counted too, and under emulation (make
    /// test-aarch64 sets VIT_EDGE_EMULATED) qemu's own memory is, so they are printed only.
    func assertPeak(_ peak: Double, below bound: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let env = ProcessInfo.processInfo.environment
        let why = env["VIT_EDGE_SANITIZED"] != nil ? " (not checked: sanitizer)" : env["VIT_EDGE_EMULATED"] != nil ? " (not checked: qemu's memory counts too)" : ""
        print("peak RSS \(what): \(Int(peak)) MiB (bound \(Int(bound)) MiB)\(why)")
        if why.isEmpty {
            XCTAssertLessThan(peak, bound, what, file: file, line: line)
        }
    }

    /// A fresh folder for one test's files, removed by the caller's defer.
    func temporaryFolder(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "/vit-edge-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

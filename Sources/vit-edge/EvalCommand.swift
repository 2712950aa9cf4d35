import ArgumentParser
import VitEdge
#if canImport(Glibc)
import Glibc
#endif

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's accuracy on labeled images (IDX files, plain or LZ4, or class folders).")

    @Argument(help: "The .vitq model.")
    var model: String

    @Option(help: "IDX images (plain or .lz4), or a folder with one sub-folder of images (JPEG, PNG, PGM, PPM) per class.")
    var images: String

    @Option(help: "IDX labels (plain or .lz4); not needed with a folder.")
    var labels: String?

    @Option(help: "Evaluate only the first N images.")
    var limit: Int?

    @Option(help: "Images per forward pass.")
    var batch = 16

    @Option(help: "A second .vitq model to compare predictions and logits with.")
    var compare: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var options: ModelOptions

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
    }

    func run() {
        guarded {
            let vit = try options.load(model)
            let other = try compare.map { try options.load($0) }
            let data = try LabeledImageSource(images: images, labels: labels, classLabels: vit.config.labels)
            data.exifOrientation = imageOptions.exifOrientation
            data.jpegScaling = imageOptions.jpegScaling(for: vit.config)
            Inputs.noteSkipped(data.skipped)
            let showProgress = !json && isTerminal(2)
            let r = try Evaluator.run(vit, on: data, limit: limit, batchSize: batch, other: other, threads: threads.count,
                                      skipped: { error in
                if showProgress { writeStderr("\r") }
                printError("vit-edge: note: skipped: \(errorLine(error))")
            }) { done, total in
                guard showProgress, done == total || done % (batch * 8) == 0 else { return }
                let width = 30
                let filled = done * width / total
                writeStderr("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total)")
                if done == total { writeStderr("\n") }
            }
            let labelsOf = vit.config.labels
            if json {
                var obj: [(String, JSON)] = [
                    ("images", .number(Double(r.images))), ("skipped", .number(Double(r.skipped))), ("accuracy", .number(r.accuracy)),
                    ("per_class", .array(r.perClassAccuracy.map { .number($0) })),
                    ("confusion", .array(r.confusion.map { .array($0.map { .number(Double($0)) }) })),
                    ("images_per_second", .number(r.imagesPerSecond)),
                ]
                if let a = r.agreement {
                    obj += [("agreement", .number(a)), ("max_abs_logit_diff", .number(r.maxAbsLogitDiff!)),
                            ("mean_abs_logit_diff", .number(r.meanAbsLogitDiff!)), ("compare_accuracy", .number(r.otherAccuracy!))]
                }
                say(JSON.object(obj).serialized())
                return
            }
            say("images       \(r.images)\(r.skipped > 0 ? " (\(r.skipped) skipped: see the notes above)" : "")")
            say("accuracy     \(percent(r.accuracy)) (\(r.correct)/\(r.images))")
            say("speed        \(fixed(r.imagesPerSecond, 1)) images/s (batch \(batch), \(vit.quantizationSummary.map { "int8 GEMM \($0.kernel), " } ?? "")fp32 GEMM \(vit.kernels.gemmName))")
            say("per class")
            for (i, a) in r.perClassAccuracy.enumerated() {
                let name = i < labelsOf.count ? labelsOf[i] : String(i)
                say("  \(pad(printable(name), 10)) \(pad(percent(a), 8, left: true))  (\(r.perClassTotal[i]) images)")
            }
            if r.confusion.count <= 20 {
                say("confusion (rows: truth, columns: predicted)")
                for row in r.confusion { say("  " + row.map { pad(String($0), 5, left: true) }.joined()) }
            }
            if let a = r.agreement {
                say("compare      \(compare!): accuracy \(percent(r.otherAccuracy!)), top-1 agreement \(percent(a))")
                say("logits       max |diff| \(r.maxAbsLogitDiff!), mean |diff| \(r.meanAbsLogitDiff!)")
            }
        }
    }
}

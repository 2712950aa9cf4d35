import ArgumentParser
import VitEdge

#if canImport(Glibc)
import Glibc
#endif

@main
struct VitEdgeCommand: ParsableCommand {
    /// Applies the memory budget from the environment, then runs the command.
    static func main() {
        // A write past a file-size limit (ulimit -f) then fails with EFBIG and is
        // reported like any failed write, instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        if let text = getenv("VIT_EDGE_MAX_MB").map({ String(cString: $0) }) {
            guard let mb = Int(text), mb >= 1, mb <= 1 << 24 else {
                printError("vit-edge: error: VIT_EDGE_MAX_MB must be a whole number of MiB (1...16777216), got '\(printable(text))'")
                Glibc.exit(2)
            }
            ResourceLimits.current = ResourceLimits(budget: mb << 20)
        }
        // `vit-edge help NAME` for a NAME that is no subcommand is an error, not the
        // overview with status 0.
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "help", args.count >= 2 {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName }
            if !names.contains(args[1]) {
                printError("vit-edge: error: no subcommand '\(printable(args[1]))' (the subcommands: \(names.joined(separator: ", ")))")
                Glibc.exit(64)
            }
        }
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "vit-edge",
        abstract: "Vision Transformer inference for small ARM64 and x86-64 Linux boards.",
        discussion: """
            Convert a PyTorch checkpoint (timm, Hugging Face, vit-pytorch) to a .vitq model, \
            then classify images with it:

              vit-edge convert model.safetensors --config config.json -o model.vitq
              vit-edge run model.vitq photo.jpg

            Inputs whose declared sizes exceed the memory budget are refused before anything \
            is allocated: by default files, weights and the activation arena up to 2 GiB each \
            and images up to 2^26 pixels; VIT_EDGE_MAX_MB=N sets one budget of N MiB for each \
            (not for the process as a whole), images up to N MiB / 16 pixels. Exit status: 0 on success, 1 on any error (one \
            line on stderr), 2 for a bad VIT_EDGE_MAX_MB, 64 for bad arguments.
            """,
        version: Engine.version,
        subcommands: [RunCommand.self, InfoCommand.self, ConvertCommand.self, EvalCommand.self, BenchCommand.self, BenchGemmCommand.self, QuantizeCommand.self, EmbedCommand.self, AttentionCommand.self, SoakCommand.self]
    )
}

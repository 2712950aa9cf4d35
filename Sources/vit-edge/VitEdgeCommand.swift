import ArgumentParser
import VitEdge

@main
struct VitEdgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vit-edge",
        abstract: "Vision Transformer inference for small ARM64 and x86-64 Linux boards.",
        discussion: """
            Convert a PyTorch checkpoint (timm, Hugging Face, vit-pytorch) to a .vitq model,
            then classify images with it:

              vit-edge convert model.safetensors --config config.json -o model.vitq
              vit-edge run model.vitq image.pgm
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, InfoCommand.self, ConvertCommand.self, EvalCommand.self, BenchCommand.self, QuantizeCommand.self, EmbedCommand.self, AttentionCommand.self, SoakCommand.self]
    )
}

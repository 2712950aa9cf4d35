// A safetensors checkpoint through the reader and the converter (family detection,
// name mapping, config inference), with no config file and with a fixed one. Seeds:
// timm ViT, hybrid, Mixer, ResMLP, DINOv2 (Hugging Face, timm), CLIP (Hugging Face, OpenAI).
import FuzzDriver
import VitEdge

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let st = try? Safetensors(bytes: bytes, path: "fuzz.safetensors") else { return 0 }
    for e in st.entries where e.shape.reduce(1, *) < 1 << 20 { _ = st.floats(e) }
    _ = try? Converter.convert(st, configJSON: nil, options: ConvertOptions())
    // The same bytes as a zero-shot head's text embeddings (convert --text-embeddings).
    _ = try? ZeroShotHead.read(st)
    // Heads for every family's seeds (Hugging Face, timm, open_clip's head width), at the seeds' 8x8.
    let config = try? JSON.parse(Array(#"{"num_attention_heads": 2, "image_size": 8, "model_args": {"num_heads": 2}, "vision_cfg": {"head_width": 4}}"#.utf8))
    if let c = try? Converter.convert(st, configJSON: config, options: ConvertOptions()) {
        _ = try? VitqFile.parse(c.vitqBytes(), path: "converted")
    }
    return 0
}

@_cdecl("FuzzSafetensors_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    return fuzzerMain(argc, argv, fuzz)
}

// A checkpoint's config.json (Hugging Face, timm or vit-pytorch style) through the
// JSON parser and the converter, beside fixed small checkpoints of each family.
import FuzzDriver
import VitEdge

let checkpoints: [Safetensors] = {
    let root = repositoryRoot
    return ["/Fuzz/Corpus/safetensors/tiny-timm.safetensors",
            "/Tests/VitEdgeTests/Fixtures/parity/vit-pytorch-mean/model.safetensors",
            "/Tests/VitEdgeTests/Fixtures/parity/hf-vit-new-names/model.safetensors",
            "/Tests/VitEdgeTests/Fixtures/parity/vit-pytorch-t2t/model.safetensors"].compactMap {
        try? Safetensors(path: root + $0)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let config = try? JSON.parse(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    for st in checkpoints {
        if let c = try? Converter.convert(st, configJSON: config, options: ConvertOptions()) {
            _ = try? VitqFile.parse(c.vitqBytes(), path: "converted")
        }
    }
    return 0
}

@_cdecl("FuzzConfigJSON_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = checkpoints
    return fuzzerMain(argc, argv, fuzz)
}

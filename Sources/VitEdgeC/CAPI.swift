// The C API (include/vit_edge.h): @_cdecl functions over the public Swift API, built as
// libvitedge. No Swift type or error crosses: handles are retained Swift objects passed
// as opaque pointers, errors become a vit_status and a thread-local message. Every
// pointer argument is checked before use.
import VitEdge
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: Handles

/// What a vit_model* points to: the model and the C strings handed out about it.
final class CModel {
    let model: Model
    let labels: [UnsafeMutablePointer<CChar>]
    let architecture: UnsafeMutablePointer<CChar>
    let kernels: UnsafeMutablePointer<CChar>

    init(_ model: Model) {
        self.model = model
        labels = (0..<model.info.classes).map { strdup(model.label($0))! }
        architecture = strdup(model.info.architecture)!
        kernels = strdup(model.info.kernels)!
    }

    deinit {
        for l in labels { free(l) }
        free(architecture)
        free(kernels)
    }
}

/// What a vit_session* points to. It holds its CModel, so the weights outlive
/// vit_model_free while sessions of the model exist.
final class CSession {
    let session: Session
    let owner: CModel
    init(_ session: Session, _ owner: CModel) {
        self.session = session
        self.owner = owner
    }
}

@inline(__always) func model(_ p: OpaquePointer?) -> CModel? {
    p.map { Unmanaged<CModel>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

@inline(__always) func session(_ p: OpaquePointer?) -> CSession? {
    p.map { Unmanaged<CSession>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

// MARK: Status and the thread-local message

enum Status: Int32 {
    case ok = 0
    case invalidArgument = 1
    case io = 2
    case badModel = 3
    case badImage = 4
    case tooLarge = 5
    case bufferTooSmall = 6
    case invalidState = 7
    case `internal` = 100

    var name: String {
        switch self {
        case .ok: return "VIT_OK"
        case .invalidArgument: return "VIT_ERROR_INVALID_ARGUMENT"
        case .io: return "VIT_ERROR_IO"
        case .badModel: return "VIT_ERROR_BAD_MODEL"
        case .badImage: return "VIT_ERROR_BAD_IMAGE"
        case .tooLarge: return "VIT_ERROR_TOO_LARGE"
        case .bufferTooSmall: return "VIT_ERROR_BUFFER_TOO_SMALL"
        case .invalidState: return "VIT_ERROR_INVALID_STATE"
        case .internal: return "VIT_ERROR_INTERNAL"
        }
    }

    init(_ code: VitError.Code) {
        switch code {
        case .invalidArgument: self = .invalidArgument
        case .io: self = .io
        case .badModel, .badTensor: self = .badModel
        case .badImage: self = .badImage
        case .tooLarge: self = .tooLarge
        case .invalidState: self = .invalidState
        case .badCheckpoint, .badDataset: self = .internal
        }
    }
}

/// Each thread's last message, in a malloc'd string freed when the thread ends.
let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

func fail(_ status: Status, _ message: String) -> Int32 {
    free(pthread_getspecific(errorKey))
    pthread_setspecific(errorKey, strdup(message))
    return status.rawValue
}

func fail(_ error: VitError) -> Int32 { fail(Status(error.code), error.description(naming: cName)) }

/// The C API's names for the settings engine errors name.
func cName(_ setting: VitError.Setting) -> String {
    switch setting {
    case .imageSize: return "options->image_height x image_width"
    case .kernels: return "kernels"
    case .batchSize: return "batch_size"
    case .threads: return "threads"
    case .attentionBlocks: return "blocks"
    }
}

func null(_ what: String) -> Int32 { fail(.invalidArgument, "\(what) is NULL") }

/// Runs `body`, turning a thrown VitError into its status and message.
func guarded(_ body: () throws(VitError) -> Void) -> Int32 {
    do { try body() } catch { return fail(error) }
    return Status.ok.rawValue
}

// C strings made once and never written or freed (hence safe to share between threads).
nonisolated(unsafe) let versionString = strdup(Engine.version)!
nonisolated(unsafe) let emptyString = strdup("")!
nonisolated(unsafe) let statusNames: [Int32: UnsafeMutablePointer<CChar>] = Dictionary(uniqueKeysWithValues:
    [Status.ok, .invalidArgument, .io, .badModel, .badImage, .tooLarge, .bufferTooSmall, .invalidState, .internal].map {
        ($0.rawValue, strdup($0.name)!)
    })
nonisolated(unsafe) let unknownStatus = strdup("VIT_ERROR_UNKNOWN")!

// MARK: Library

@_cdecl("vit_edge_version")
public func vit_edge_version() -> UnsafePointer<CChar> { UnsafePointer(versionString) }

@_cdecl("vit_edge_abi_version")
public func vit_edge_abi_version() -> Int32 { Engine.cABIVersion }

@_cdecl("vit_last_error")
public func vit_last_error() -> UnsafePointer<CChar> {
    pthread_getspecific(errorKey).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) } ?? UnsafePointer(emptyString)
}

@_cdecl("vit_status_name")
public func vit_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(statusNames[status] ?? unknownStatus)
}

// MARK: Models

func kernelChoice(_ kernels: UnsafePointer<CChar>?) throws(VitError) -> Model.KernelChoice {
    guard let kernels else { return .auto }
    let name = String(cString: kernels)
    guard let choice = Model.KernelChoice(rawValue: name) else {
        throw .invalidArgument("kernels: expected NULL or one of \(Model.KernelChoice.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
    }
    return choice
}

func hand(_ m: Model, to out: UnsafeMutablePointer<OpaquePointer?>) {
    out.pointee = OpaquePointer(Unmanaged.passRetained(CModel(m)).toOpaque())
}

@_cdecl("vit_model_load")
public func vit_model_load(_ path: UnsafePointer<CChar>?, _ kernels: UnsafePointer<CChar>?,
                           _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return null("out_model") }
    out.pointee = nil
    guard let path else { return null("path") }
    return guarded { () throws(VitError) in
        hand(try Model(path: String(cString: path), options: .init(kernels: try kernelChoice(kernels))), to: out)
    }
}

/// Reads a vit_model_options by its C layout, only the fields its struct_size covers.
func modelOptions(_ raw: UnsafeRawPointer) throws(VitError) -> Model.Options {
    let size = Int(raw.loadUnaligned(as: UInt.self))
    guard size >= MemoryLayout<UInt>.size && size <= 1 << 16 else {
        throw .invalidArgument("options->struct_size must be sizeof(vit_model_options) (start from VIT_MODEL_OPTIONS_INIT), got \(size)")
    }
    func field<T>(_ offset: Int, _ type: T.Type, _ absent: T) -> T {
        offset + MemoryLayout<T>.size <= size ? raw.loadUnaligned(fromByteOffset: offset, as: T.self) : absent
    }
    let word = MemoryLayout<UInt>.size
    var options = Model.Options(kernels: try kernelChoice(field(word, UnsafePointer<CChar>?.self, nil)))
    let width = field(2 * word, Int32.self, 0), height = field(2 * word + 4, Int32.self, 0)
    if width != 0 || height != 0 {
        guard width > 0 && height > 0 else {
            throw .invalidArgument("options->image_width and image_height must both be positive (or both 0), got \(width)x\(height)")
        }
        options.imageSize = (Int(height), Int(width))
    }
    let budget = field(2 * word + 8, UInt.self, 0)
    if budget != 0 { options.limits = ResourceLimits(budget: Int(clamping: budget)) }
    return options
}

@_cdecl("vit_model_load_with_options")
public func vit_model_load_with_options(_ path: UnsafePointer<CChar>?, _ options: UnsafeRawPointer?,
                                        _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return null("out_model") }
    out.pointee = nil
    guard let path else { return null("path") }
    guard let options else { return null("options") }
    return guarded { () throws(VitError) in
        hand(try Model(path: String(cString: path), options: try modelOptions(options)), to: out)
    }
}

@_cdecl("vit_model_load_memory")
public func vit_model_load_memory(_ data: UnsafeRawPointer?, _ byteCount: UInt, _ kernels: UnsafePointer<CChar>?,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return null("out_model") }
    out.pointee = nil
    guard let data else { return null("data") }
    let size = Int(clamping: byteCount)
    guard size > 0 else { return fail(.invalidArgument, "size must be positive, got \(size)") }
    guard size <= ResourceLimits.default.maxFileBytes else {
        return fail(.tooLarge, "model of \(size) bytes exceeds the limit of \(ResourceLimits.default.maxFileBytes) bytes")
    }
    return guarded { () throws(VitError) in
        let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
        hand(try Model(bytes: bytes, name: "model in memory", options: .init(kernels: try kernelChoice(kernels))), to: out)
    }
}

@_cdecl("vit_model_free")
public func vit_model_free(_ m: OpaquePointer?) {
    guard let m else { return }
    Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(m)).release()
}

@_cdecl("vit_model_image_width")
public func vit_model_image_width(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.imageWidth) } ?? -1 }

@_cdecl("vit_model_image_height")
public func vit_model_image_height(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.imageHeight) } ?? -1 }

@_cdecl("vit_model_channels")
public func vit_model_channels(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.channels) } ?? -1 }

@_cdecl("vit_model_num_classes")
public func vit_model_num_classes(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.classes) } ?? -1 }

@_cdecl("vit_model_embedding_size")
public func vit_model_embedding_size(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.embeddingSize) } ?? -1 }

@_cdecl("vit_model_blocks")
public func vit_model_blocks(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.blocks) } ?? -1 }

@_cdecl("vit_model_heads")
public func vit_model_heads(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.attentionHeads) } ?? -1 }

@_cdecl("vit_model_tokens")
public func vit_model_tokens(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.tokens) } ?? -1 }

@_cdecl("vit_model_prefix_tokens")
public func vit_model_prefix_tokens(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.prefixTokens) } ?? -1 }

@_cdecl("vit_model_width")
public func vit_model_width(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.width) } ?? -1 }

@_cdecl("vit_model_patch_rows")
public func vit_model_patch_rows(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.patchRows) } ?? -1 }

@_cdecl("vit_model_patch_columns")
public func vit_model_patch_columns(_ m: OpaquePointer?) -> Int32 { model(m).map { Int32($0.model.info.patchColumns) } ?? -1 }

@_cdecl("vit_model_is_int8")
public func vit_model_is_int8(_ m: OpaquePointer?) -> Int32 { model(m).map { $0.model.info.int8 ? 1 : 0 } ?? -1 }

@_cdecl("vit_model_architecture")
public func vit_model_architecture(_ m: OpaquePointer?) -> UnsafePointer<CChar>? {
    model(m).map { UnsafePointer($0.architecture) }
}

@_cdecl("vit_model_kernels")
public func vit_model_kernels(_ m: OpaquePointer?) -> UnsafePointer<CChar>? {
    model(m).map { UnsafePointer($0.kernels) }
}

@_cdecl("vit_model_label")
public func vit_model_label(_ m: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let m = model(m), index >= 0, Int(index) < m.labels.count else { return nil }
    return UnsafePointer(m.labels[Int(index)])
}

// MARK: Sessions

@_cdecl("vit_session_create")
public func vit_session_create(_ m: OpaquePointer?, _ batch: Int32, _ threads: Int32,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    vit_session_create_with_attention(m, batch, threads, nil, 0, out)
}

@_cdecl("vit_session_create_with_attention")
public func vit_session_create_with_attention(_ m: OpaquePointer?, _ batch: Int32, _ threads: Int32,
                                              _ blocks: UnsafePointer<Int32>?, _ blockCount: Int32,
                                              _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return null("out_session") }
    out.pointee = nil
    guard let owner = model(m) else { return null("model") }
    guard blockCount >= 0 && blockCount <= 4096 else { return fail(.invalidArgument, "block_count must be 0...4096, got \(blockCount)") }
    guard blockCount == 0 || blocks != nil else { return null("blocks (with a block_count of \(blockCount))") }
    let attention = (0..<Int(blockCount)).map { Int(blocks![$0]) }
    return guarded { () throws(VitError) in
        let s = try Session(model: owner.model, batchSize: Int(batch), threads: Int(threads), attentionBlocks: attention)
        out.pointee = OpaquePointer(Unmanaged.passRetained(CSession(s, owner)).toOpaque())
    }
}

@_cdecl("vit_session_free")
public func vit_session_free(_ s: OpaquePointer?) {
    guard let s else { return }
    Unmanaged<CSession>.fromOpaque(UnsafeRawPointer(s)).release()
}

let pixelFormats: [ImageView.Format] = [.gray8, .rgb8, .i420, .nv12, .grayFloat, .rgbFloat, .bgr8, .rgbx8, .bgrx8]

@_cdecl("vit_session_set_pixels")
public func vit_session_set_pixels(_ s: OpaquePointer?, _ image: Int32, _ format: Int32, _ pixels: UnsafeRawPointer?,
                                   _ byteCount: UInt, _ width: Int32, _ height: Int32, _ rowByteCount: UInt) -> Int32 {
    guard let s = session(s) else { return null("session") }
    guard let pixels else { return null("pixels") }
    guard format >= 0 && Int(format) < pixelFormats.count else {
        return fail(.invalidArgument, "format must be a vit_pixel_format (0...\(pixelFormats.count - 1)), got \(format)")
    }
    let f = pixelFormats[Int(format)]
    guard width > 0, height > 0 else { return fail(.invalidArgument, "width and height must be positive, got \(width)x\(height)") }
    let limit = s.session.model.limits.maxImagePixels
    guard Int(width) * Int(height) <= limit else {
        return fail(.tooLarge, "a \(width)x\(height) image exceeds the limit of \(limit) pixels")
    }
    let size = Int(clamping: byteCount), rowBytes = Int(clamping: rowByteCount)
    let packed = ImageView.byteCount(f, width: Int(width), height: 1).map { f == .i420 || f == .nv12 ? Int(width) : $0 } ?? Int.max
    let stride = rowBytes == 0 ? packed : rowBytes
    guard stride >= packed else {
        return fail(.invalidArgument, "rows of \(width) \(f.rawValue) pixels take at least \(packed) bytes, got row_bytes \(rowBytes)")
    }
    // Bytes the layout reads: every row but the last at the stride, the last one packed,
    // and for YUV the chroma planes after the whole Y plane.
    let chroma = f == .i420 || f == .nv12 ? 2 * ((Int(width) + 1) / 2) * ((Int(height) + 1) / 2) : 0
    let (rows, o1) = stride.multipliedReportingOverflow(by: Int(height) - (chroma > 0 ? 0 : 1))
    let (needed, o2) = rows.addingReportingOverflow(chroma > 0 ? chroma : packed)
    guard !o1, !o2, size >= needed else {
        return fail(.invalidArgument, "a \(width)x\(height) \(f.rawValue) image with rows of \(stride) bytes needs \(o1 || o2 ? "more than 2^63" : String(needed)) bytes, got a buffer of \(size)")
    }
    if f == .grayFloat || f == .rgbFloat, Int(bitPattern: pixels) % 4 != 0 {
        return fail(.invalidArgument, "float pixels must be 4-byte aligned")
    }
    return guarded { () throws(VitError) in
        try s.session.setPixels(ImageView(format: f, width: Int(width), height: Int(height), data: pixels, rowBytes: stride),
                                at: Int(image))
    }
}

@_cdecl("vit_session_set_image_file")
public func vit_session_set_image_file(_ s: OpaquePointer?, _ image: Int32, _ path: UnsafePointer<CChar>?) -> Int32 {
    guard let s = session(s) else { return null("session") }
    guard let path else { return null("path") }
    return guarded { () throws(VitError) in try s.session.setImage(path: String(cString: path), at: Int(image)) }
}

@_cdecl("vit_session_set_image_memory")
public func vit_session_set_image_memory(_ s: OpaquePointer?, _ image: Int32, _ data: UnsafeRawPointer?, _ byteCount: UInt) -> Int32 {
    guard let s = session(s) else { return null("session") }
    guard let data else { return null("data") }
    let size = Int(clamping: byteCount)
    guard size > 0 && size <= ResourceLimits.default.maxFileBytes else {
        return fail(.invalidArgument, "size must be 1...\(ResourceLimits.default.maxFileBytes) bytes, got \(size)")
    }
    return guarded { () throws(VitError) in
        try s.session.setImage(encoded: [UInt8](UnsafeRawBufferPointer(start: data, count: size)), at: Int(image))
    }
}

@_cdecl("vit_session_run")
public func vit_session_run(_ s: OpaquePointer?, _ count: Int32) -> Int32 {
    guard let s = session(s) else { return null("session") }
    guard count >= 0 else { return fail(.invalidArgument, "count must be 0 (the whole batch) or more, got \(count)") }
    return guarded { () throws(VitError) in try s.session.run(count: count == 0 ? nil : Int(count)) }
}

func attentionCount(_ s: Session) -> Int {
    let i = s.model.info
    return s.attentionBlocks.isEmpty ? 0 : i.attentionHeads * i.tokens * i.tokens
}

@_cdecl("vit_session_output_count")
public func vit_session_output_count(_ s: OpaquePointer?, _ output: Int32) -> UInt {
    UInt(outputCount(s, output))
}

func outputCount(_ s: OpaquePointer?, _ output: Int32) -> Int {
    guard let s = session(s)?.session else { return 0 }
    switch output {
    case 0: return s.count(of: .logits)
    case 1: return s.count(of: .probabilities)
    case 2: return s.count(of: .embedding)
    case 3: return attentionCount(s)
    case 4: return s.count(of: .tokens)
    default: return 0
    }
}

@_cdecl("vit_session_output")
public func vit_session_output(_ s: OpaquePointer?, _ output: Int32, _ image: Int32, _ block: Int32,
                               _ out: UnsafeMutablePointer<Float>?, _ capacityCount: UInt) -> Int32 {
    guard let s = session(s)?.session else { return null("session") }
    guard let out else { return null("out") }
    let capacity = Int(clamping: capacityCount)
    let kinds: [Session.Output] = [.logits, .probabilities, .embedding, .embedding /* unused: 3 is attention */, .tokens]
    guard output >= 0 && output <= 4 else { return fail(.invalidArgument, "output must be a vit_output (0...4), got \(output)") }
    let n = output == 3 ? attentionCount(s) : s.count(of: kinds[Int(output)])
    guard capacity >= n else {
        return fail(.bufferTooSmall, "the output holds \(n) floats per image, the buffer \(capacity)")
    }
    return guarded { () throws(VitError) in
        if output == 3 {
            guard s.attentionBlocks.contains(Int(block)) else {
                throw .invalidArgument("block \(block)'s attention was not captured: the session keeps blocks \(s.attentionBlocks) (vit_session_create_with_attention)")
            }
            let map = try s.attention(block: Int(block), image: Int(image)) ?? []
            out.update(from: map, count: min(map.count, capacity))
            return
        }
        try VitError.rethrown {
            try s.withOutput(kinds[Int(output)], image: Int(image)) { out.update(from: $0.baseAddress!, count: $0.count) }
        }
    }
}

@_cdecl("vit_session_top_k")
public func vit_session_top_k(_ s: OpaquePointer?, _ image: Int32, _ k: Int32,
                              _ classes: UnsafeMutablePointer<Int32>?, _ probabilities: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let s = session(s)?.session else { return null("session") }
    guard k >= 0 else { return fail(.invalidArgument, "k must not be negative, got \(k)") }
    return guarded { () throws(VitError) in
        for (i, c) in try s.top(Int(k), image: Int(image)).enumerated() {
            classes?[i] = Int32(c.index)
            probabilities?[i] = c.probability
        }
    }
}

extension VitError {
    static func rethrown(_ body: () throws -> Void) throws(VitError) {
        do { try body() } catch let e as VitError { throw e } catch { throw .invalidArgument(String(describing: error)) }
    }
}

/// Every error the engine throws. Each case renders as one line that says what
/// was expected, what was found and, where it helps, what to do.
public enum VitError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A file could not be opened or read.
    case io(path: String, reason: String)
    /// A file is larger than the configured bound.
    case tooLarge(what: String, bytes: Int, limit: Int, hint: String)
    /// An image's header declares more pixels than the configured bound.
    case tooManyPixels(path: String, width: Int, height: Int, limit: Int)
    /// A model file is malformed: what was expected, what was found.
    case badModel(path: String, expected: String, found: String, hint: String)
    /// An image file is malformed.
    case badImage(path: String, expected: String, found: String)
    /// A checkpoint (safetensors / config.json) cannot be converted.
    case badCheckpoint(path: String, expected: String, found: String, hint: String)
    /// A data set file (IDX) is malformed or does not fit the model.
    case badDataset(path: String, expected: String, found: String)
    /// A tensor has the wrong shape or is missing.
    case badTensor(name: String, expected: String, found: String, hint: String)
    /// A request the engine cannot honour (e.g. batch size 0).
    case invalidArgument(String)
    /// A setting the caller chose (an option of the command line, a field of the C API's
    /// options, a parameter of the Swift API) that the model cannot take: which setting,
    /// the value given, what it takes. Each front end names the setting its own way
    /// (`--image-size`, `options.image_width`, `imageSize`), so the engine never quotes
    /// one front end's spelling to another's users.
    case invalidSetting(Setting, value: String, expected: String)
    /// A call out of order: a session run before its images were given, results read
    /// before a run or after the next image overwrote them.
    case invalidState(String)

    /// The settings `invalidSetting` names.
    public enum Setting: String, Sendable, CaseIterable {
        /// The input size a model runs at (height × width).
        case imageSize = "image size"
        /// The kernel set.
        case kernels
        /// Images per run.
        case batchSize = "batch size"
        /// Threads per run.
        case threads
        /// Blocks whose attention maps are kept.
        case attentionBlocks = "attention blocks"
    }

    /// A number for each kind of error that stays the same across releases (the C API's
    /// `vit_status`; see docs/API.md). New kinds get new numbers; none is reused.
    public enum Code: Int32, Sendable, CaseIterable {
        case invalidArgument = 1
        case io = 2
        case badModel = 3
        case badImage = 4
        case tooLarge = 5
        // 6 is the C API's VIT_ERROR_BUFFER_TOO_SMALL (a C caller's output buffer).
        case invalidState = 7
        case badCheckpoint = 8
        case badDataset = 9
        case badTensor = 10
    }

    /// This error's stable code.
    public var code: Code {
        switch self {
        case .io: return .io
        case .tooLarge, .tooManyPixels: return .tooLarge
        case .badModel: return .badModel
        case .badImage: return .badImage
        case .badCheckpoint: return .badCheckpoint
        case .badDataset: return .badDataset
        case .badTensor: return .badTensor
        case .invalidArgument, .invalidSetting: return .invalidArgument
        case .invalidState: return .invalidState
        }
    }

    /// One line: what was expected, what was found and, where it helps, what to do.
    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .tooLarge(what, bytes, limit, hint):
            return "\(what): \(bytes) bytes exceeds the limit of \(limit) bytes\(hint.isEmpty ? "" : "; \(hint)")"
        case let .tooManyPixels(path, width, height, limit):
            return "\(path): image of \(width)x\(height) pixels exceeds the limit of \(limit) pixels; VIT_EDGE_MAX_MB raises it"
        case let .badModel(path, expected, found, hint):
            return "\(path): not a valid .vitq model: expected \(expected), found \(found)\(hint.isEmpty ? "" : "; \(hint)")"
        case let .badImage(path, expected, found):
            return "\(path): bad image: expected \(expected), found \(found)"
        case let .badCheckpoint(path, expected, found, hint):
            return "\(path): cannot convert: expected \(expected), found \(found)\(hint.isEmpty ? "" : "; \(hint)")"
        case let .badDataset(path, expected, found):
            return "\(path): bad data set: expected \(expected), found \(found)"
        case let .badTensor(name, expected, found, hint):
            return "tensor '\(name)': expected \(expected), found \(found)\(hint.isEmpty ? "" : "; \(hint)")"
        case let .invalidArgument(message), let .invalidState(message):
            return message
        case let .invalidSetting(setting, value, expected):
            return "\(setting.rawValue) \(value): expected \(expected)"
        }
    }
}

extension VitError {
    /// The same error with a setting named as `name` gives it (a front end's own spelling
    /// of its options); other errors as they are.
    public func description(naming name: (Setting) -> String) -> String {
        guard case let .invalidSetting(setting, value, expected) = self else { return description }
        return "\(name(setting)) \(value): expected \(expected)"
    }
}

/// Bounds that keep hostile files from asking for absurd memory. Checked before
/// any allocation sized by a file's own header.
public struct ResourceLimits: Sendable {
    /// Largest file read whole into memory.
    public var maxFileBytes: Int
    /// Largest decompressed weight payload of a model.
    public var maxModelBytes: Int
    /// Largest image, in pixels (width × height).
    public var maxImagePixels: Int
    /// Largest planned activation arena.
    public var maxArenaBytes: Int

    /// Bounds in bytes (`maxImagePixels` in pixels); the defaults are 2 GiB and 2^26 pixels.
    public init(maxFileBytes: Int = 2 << 30, maxModelBytes: Int = 2 << 30,
                maxImagePixels: Int = 1 << 26, maxArenaBytes: Int = 2 << 30) {
        self.maxFileBytes = maxFileBytes
        self.maxModelBytes = maxModelBytes
        self.maxImagePixels = maxImagePixels
        self.maxArenaBytes = maxArenaBytes
    }

    /// The defaults: 2 GiB files, weights and arena; 2^26-pixel images.
    public static let `default` = ResourceLimits()

    /// Limits from one memory budget in bytes: files, weights and arena up to the
    /// budget, images up to budget / 16 pixels (an RGB float copy and its resized input).
    public init(budget: Int) {
        self.init(maxFileBytes: budget, maxModelBytes: budget, maxImagePixels: max(budget / 16, 1), maxArenaBytes: budget)
    }

    /// The limits every loader uses unless given others. A program sets this once at
    /// start-up (the CLI from `VIT_EDGE_MAX_MB`), before any work.
    nonisolated(unsafe) package static var current = ResourceLimits()
}

/// Multiplies sizes from untrusted headers, reporting overflow as nil.
@inline(__always)
func checkedProduct(_ values: [Int]) -> Int? {
    var result = 1
    for v in values {
        guard v >= 0 else { return nil }
        let (p, overflow) = result.multipliedReportingOverflow(by: v)
        if overflow { return nil }
        result = p
    }
    return result
}

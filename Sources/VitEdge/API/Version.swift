/// The engine's version, in one place: the CLI's `--version`, the C API's
/// `vit_edge_version()` and this type all read it.
///
/// Semantic versioning: before 1.0 a minor release may change the Swift API (see
/// docs/API.md for what is promised); the C ABI has its own number, raised whenever a
/// change would break a program built against an older `vit_edge.h`.
public enum Engine {
    /// The engine's semantic version, "major.minor.patch".
    public static let version = "0.2.0"

    /// The C ABI version `vit_edge.h` was written for (`VIT_EDGE_ABI_VERSION`).
    public static let cABIVersion: Int32 = 1

    /// The instruction-set features of this CPU the kernels can use (e.g. `avx2`, `fma`,
    /// `neon`, `dotprod`).
    public static var cpuFeatures: [String] { Kernels.cpuFeatures }
}

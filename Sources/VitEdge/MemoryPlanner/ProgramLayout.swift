/// The forward pass as steps over named buffers, in the manner of TFLite Micro, which
/// derives each tensor's lifetime from the inputs and outputs of the operators that use
/// it. A model family declares its buffers (names and sizes); the steps, in program order
/// with the buffers each one reads or writes, come from running the forward pass itself
/// on a tracing kernel set (`StepTrace`). A buffer lives from the first step that touches
/// it to the last. Nobody lists or numbers steps by hand.
struct ProgramLayout {
    private(set) var requests: [BufferRequest] = []
    private(set) var index: [String: Int] = [:]
    /// Steps recorded so far.
    private(set) var steps = 0
    private var touched: [Bool] = []
    private var keptToEnd: [Int] = []
    private var startsAtZero: [Int] = []

    /// Declares a buffer of `count` elements of `elementSize` bytes. A buffer of size 0
    /// (a layer the model does not have) may be declared and used like any other.
    mutating func buffer(_ name: String, _ count: Int, elementSize: Int = 4) throws {
        guard count >= 0, !count.multipliedReportingOverflow(by: elementSize).overflow else {
            throw VitError.invalidArgument("buffer \(name) overflows")
        }
        precondition(index[name] == nil, "buffer \(name) declared twice")
        index[name] = requests.count
        requests.append(BufferRequest(name: name, bytes: count * elementSize, firstUse: 0, lastUse: 0))
        touched.append(false)
    }

    /// One step of the program: the buffers it reads or writes (by declaration index,
    /// as `StepTrace` records them).
    mutating func step(_ buffers: [Int]) {
        for i in buffers {
            if !touched[i] {
                touched[i] = true
                requests[i].firstUse = steps
            }
            requests[i].lastUse = steps
        }
        steps += 1
    }

    /// Buffers the caller writes before the pass (the input): they live from the first step.
    mutating func input(_ names: String...) {
        for n in names {
            guard let i = index[n] else { preconditionFailure("input \(n) undeclared") }
            startsAtZero.append(i)
        }
    }

    /// Buffers the caller reads after the pass (outputs): they live to the last step.
    mutating func output(_ names: String...) {
        for n in names {
            guard let i = index[n] else { preconditionFailure("output \(n) undeclared") }
            keptToEnd.append(i)
        }
    }

    /// The requests with outputs extended to the end. Every declared buffer of
    /// non-zero size must have been used by some step.
    func finished() -> [BufferRequest] {
        var r = requests
        let last = max(steps - 1, 0)
        for i in keptToEnd { r[i].lastUse = last }
        for i in startsAtZero { r[i].firstUse = 0 }
        for (i, b) in r.enumerated() {
            precondition(touched[i] || b.bytes == 0, "buffer \(b.name) is declared but no step uses it")
        }
        return r
    }
}

/// A labeled image set: IDX images + IDX labels, or a folder with one sub-folder
/// per class (named by the class's label or index) holding PGM/PPM files.
public struct LabeledImages {
    public var images: [Image]
    public var labels: [Int]
    public var names: [String]

    public static func load(images: String, labels: String?, classLabels: [String],
                            limits: ResourceLimits = .current) throws -> LabeledImages {
        if FileIO.isDirectory(images) { return try loadFolder(images, classLabels: classLabels, limits: limits) }
        guard let labels else {
            throw VitError.invalidArgument("--labels is required with an IDX image file (or give a folder of class folders)")
        }
        let imgs = try IDX.load(path: images, limits: limits).images(path: images)
        let lab = try IDX.load(path: labels, limits: limits)
        guard lab.dims.count == 1, lab.dims[0] == imgs.count else {
            throw VitError.badDataset(path: labels, expected: "\(imgs.count) labels (one per image)", found: "shape \(lab.dims)")
        }
        return LabeledImages(images: imgs, labels: lab.data.map(Int.init), names: (0..<imgs.count).map { "\(images)#\($0)" })
    }

    static func loadFolder(_ root: String, classLabels: [String], limits: ResourceLimits) throws -> LabeledImages {
        var out = LabeledImages(images: [], labels: [], names: [])
        for dir in try FileIO.list(root) where FileIO.isDirectory(root + "/" + dir) {
            guard let label = classLabels.firstIndex(of: dir) ?? Int(dir) else {
                throw VitError.badDataset(path: root + "/" + dir, expected: "a folder named by a class label or index",
                                          found: "'\(dir)'")
            }
            for file in try FileIO.list(root + "/" + dir) where file.hasSuffix(".pgm") || file.hasSuffix(".ppm") {
                let path = root + "/" + dir + "/" + file
                out.images.append(try Image.load(path: path, limits: limits))
                out.labels.append(label)
                out.names.append(path)
            }
        }
        guard !out.images.isEmpty else {
            throw VitError.badDataset(path: root, expected: "class folders with .pgm/.ppm images", found: "none")
        }
        return out
    }
}

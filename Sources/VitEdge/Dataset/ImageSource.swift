/// Images named by paths, read one at a time so that memory holds one image (plus
/// the file names of the folders given), however many there are:
/// - an image file (PGM/PPM);
/// - a folder: its image files and those of its sub-folders (one level: class folders),
///   in name order; other files are listed in `skipped`; a folder without images is an error;
/// - an IDX file of images [N, H, W], plain or LZ4 (by name: `.lz4`, `-ubyte`, `.idx`, `.idx3`).
///
/// After `next()` throws for one item (an unreadable image), the following call goes on
/// with the next one, so a command can report it and continue.
package final class ImageSource {
    enum Entry {
        case file(String)
        case idx(String)
        case reader(IDXReader)
    }

    let limits: ResourceLimits
    var pending: [Entry]
    /// Turn JPEG/PNG images upright by their EXIF orientation (off: Pillow's and timm's default).
    package var exifOrientation = false
    /// Decode JPEGs at 1/2, 1/4 or 1/8 size where the model's resize allows (`--jpeg-scale auto`).
    package var jpegScaling: JPEGScaling? = nil
    /// Images handed out so far.
    package private(set) var count = 0
    /// Files in the folders given that are not images this reader decodes.
    package private(set) var skipped: [String] = []

    package init(paths: [String], limits: ResourceLimits = .current) {
        self.limits = limits
        pending = paths.reversed().map { .file($0) }  // a stack: the last element is next
    }

    package static func isImageFile(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".pgm") || lower.hasSuffix(".ppm") || lower.hasSuffix(".pnm")
            || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") || lower.hasSuffix(".png")
    }

    package static func isIDX(_ path: String) -> Bool {
        path.hasSuffix(".lz4") || path.hasSuffix("-ubyte") || path.hasSuffix(".idx") || path.contains(".idx3")
    }

    /// The image files of a folder and of its sub-folders (one level), sorted by path.
    /// Throws when there are none; other files go to `skipped`.
    func expand(_ dir: String) throws -> [String] {
        var images: [String] = []
        var others: [String] = []
        for name in try FileIO.list(dir) {
            let path = dir + "/" + name
            if FileIO.isDirectory(path) {
                for inner in try FileIO.list(path) {
                    let p = path + "/" + inner
                    if FileIO.isDirectory(p) { continue }
                    if ImageSource.isImageFile(inner) { images.append(p) } else { others.append(p) }
                }
            } else if ImageSource.isImageFile(name) {
                images.append(path)
            } else {
                others.append(path)
            }
        }
        skipped += others
        guard !images.isEmpty else {
            throw VitError.badDataset(path: dir, expected: "images (.jpg, .png, .pgm, .ppm) in the folder or its sub-folders",
                                      found: others.isEmpty ? "an empty folder" : "\(others.count) other files")
        }
        return images
    }

    /// The next image and its name (a path, or `path#index` in an IDX file), or nil.
    package func next() throws -> (name: String, image: Image)? {
        while let entry = pending.popLast() {
            switch entry {
            case let .file(path):
                if FileIO.isDirectory(path) {
                    var dir = path
                    while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
                    pending += try expand(dir).reversed().map { .file($0) }
                } else if ImageSource.isIDX(path) {
                    pending.append(.idx(path))
                } else {
                    count += 1
                    return (path, try Image.load(path: path, limits: limits, exifOrientation: exifOrientation, jpegScaling: jpegScaling))
                }
            case let .idx(path):
                let reader = try IDXReader(path: path, limits: limits)
                try reader.requireImages()
                pending.append(.reader(reader))
            case let .reader(r):
                let i = r.index
                guard let image = try r.nextImage() else { continue }
                pending.append(.reader(r))
                count += 1
                return ("\(r.path)#\(i)", image)
            }
        }
        return nil
    }
}

/// A labeled image set read one image at a time: IDX images + IDX labels, or a folder
/// with one sub-folder per class (named by the class's label or index) holding images.
package final class LabeledImageSource {
    /// Images in the set.
    package let count: Int
    /// Files in the class folders that are not images this reader decodes.
    package let skipped: [String]
    let idx: (images: IDXReader, labels: IDXReader)?
    let files: [(path: String, label: Int)]
    let limits: ResourceLimits
    var position = 0
    /// Turn JPEG/PNG images upright by their EXIF orientation (off: Pillow's and timm's default).
    package var exifOrientation = false
    /// Decode JPEGs at 1/2, 1/4 or 1/8 size where the model's resize allows (`--jpeg-scale auto`).
    package var jpegScaling: JPEGScaling? = nil

    package init(images: String, labels: String?, classLabels: [String], limits: ResourceLimits = .current) throws {
        self.limits = limits
        guard !FileIO.isDirectory(images) else {
            var files: [(String, Int)] = []
            var skipped: [String] = []
            for dir in try FileIO.list(images) where FileIO.isDirectory(images + "/" + dir) {
                guard let label = classLabels.firstIndex(of: dir) ?? Int(dir) else {
                    throw VitError.badDataset(path: images + "/" + dir, expected: "a folder named by a class label or index",
                                              found: "'\(dir)'")
                }
                for file in try FileIO.list(images + "/" + dir) {
                    let path = images + "/" + dir + "/" + file
                    if ImageSource.isImageFile(file) { files.append((path, label)) } else { skipped.append(path) }
                }
            }
            guard !files.isEmpty else {
                throw VitError.badDataset(path: images, expected: "class folders with images (.jpg, .png, .pgm, .ppm)", found: "none")
            }
            self.files = files
            self.skipped = skipped
            count = files.count
            idx = nil
            return
        }
        guard let labels else {
            throw VitError.invalidArgument("--labels is required with an IDX image file (or give a folder of class folders)")
        }
        let imageReader = try IDXReader(path: images, limits: limits)
        try imageReader.requireImages()
        let labelReader = try IDXReader(path: labels, limits: limits)
        guard labelReader.dims.count == 1, labelReader.count == imageReader.count else {
            throw VitError.badDataset(path: labels, expected: "\(imageReader.count) labels (one per image)",
                                      found: "shape \(labelReader.dims)")
        }
        idx = (imageReader, labelReader)
        files = []
        skipped = []
        count = imageReader.count
    }

    /// Whether the set is a folder of image files (one bad file need not end a run).
    package var isFolder: Bool { idx == nil }

    /// The next image with its name and label, or nil after the last. After a file that
    /// cannot be read throws, the next call goes on with the following one.
    package func next() throws -> (name: String, image: Image, label: Int)? {
        guard position < count else { return nil }
        defer { position += 1 }
        if let idx {
            guard let image = try idx.images.nextImage(), let label = try idx.labels.nextLabel() else { return nil }
            return ("\(idx.images.path)#\(position)", image, label)
        }
        let f = files[position]
        return (f.path, try Image.load(path: f.path, limits: limits, exifOrientation: exifOrientation, jpegScaling: jpegScaling), f.label)
    }
}

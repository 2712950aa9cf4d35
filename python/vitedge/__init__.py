"""vitedge: Vision Transformer inference on small boards, from Python.

A thin layer over libvitedge's C API (ctypes: nothing is compiled at install), with numpy
arrays in and out:

    import vitedge
    model = vitedge.Model("model-int8.vitq")
    print(model.classify("photo.jpg"))            # [('tabby', 0.81), ...]
    logits = model.logits([frame1, frame2])       # np.ndarray float32 [2, classes]

An image is a path, the bytes of a JPEG/PNG/PGM/PPM file, or a numpy array: uint8
[H, W] gray, [H, W, 3] RGB, [H, W, 4] RGBX; float32 [H, W] or [H, W, 3] in [0, 1];
format="bgr" / "bgrx" for OpenCV's and Picamera2's byte orders ("RGB888" is BGR in
memory, "XRGB8888" BGRX, "XBGR8888" RGBX); format="yuv420" for Picamera2's YUV420
arrays ([H * 3 / 2, W] uint8, I420). Rows may be strided (a crop, a padded camera
buffer): only the pixels within a row must be contiguous, else the array is copied once.

A Model may be shared between threads; each thread gets its own sessions. The GIL is
released while the library works (ctypes), so capture threads keep running.
"""
import ctypes
import os
import threading

import numpy as np

__all__ = ["Model", "Error", "InvalidArgumentError", "IOFailureError", "BadModelError", "BadImageError",
           "TooLargeError", "BufferTooSmallError", "InvalidStateError", "InternalError", "version", "library_path"]

_ABI_VERSION = 1  # VIT_EDGE_ABI_VERSION of the vit_edge.h this module follows

# vit_pixel_format
_GRAY8, _RGB24, _YUV420P, _NV12, _GRAYF32, _RGBF32, _BGR24, _RGBX32, _BGRX32 = range(9)
# vit_output
_LOGITS, _PROBABILITIES, _EMBEDDING, _ATTENTION, _TOKENS = range(5)


class Error(Exception):
    """A failure the library reported: `status` is its vit_status number, the message
    its one line (what was expected, what was found)."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    status = 1


class IOFailureError(Error, OSError):
    status = 2


class BadModelError(Error):
    status = 3


class BadImageError(Error, ValueError):
    status = 4


class TooLargeError(Error):
    status = 5


class BufferTooSmallError(Error):
    status = 6


class InvalidStateError(Error):
    status = 7


class InternalError(Error):
    status = 100


_ERRORS = {c.status: c for c in (InvalidArgumentError, IOFailureError, BadModelError, BadImageError, TooLargeError,
                                 BufferTooSmallError, InvalidStateError, InternalError)}


def _candidates():
    given = os.environ.get("VITEDGE_LIBRARY")
    if given:
        return [given]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, "_lib", "libvitedge.so.1"), "libvitedge.so.1"]


def _load():
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(f"{path}: {e}")
    else:
        raise ImportError("vitedge: libvitedge could not be loaded (" + "; ".join(errors) + ")")
    p, i, c, sz, f = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_float)
    for name, res, args in [
        ("vit_edge_version", c, []), ("vit_edge_abi_version", i, []), ("vit_last_error", c, []),
        ("vit_model_load_with_options", i, [c, ctypes.c_void_p, ctypes.POINTER(p)]),
        ("vit_model_load_memory", i, [ctypes.c_void_p, sz, c, ctypes.POINTER(p)]),
        ("vit_model_free", None, [p]),
        ("vit_model_image_width", i, [p]), ("vit_model_image_height", i, [p]), ("vit_model_channels", i, [p]),
        ("vit_model_num_classes", i, [p]), ("vit_model_embedding_size", i, [p]), ("vit_model_blocks", i, [p]),
        ("vit_model_is_int8", i, [p]), ("vit_model_heads", i, [p]), ("vit_model_tokens", i, [p]), ("vit_model_prefix_tokens", i, [p]), ("vit_model_width", i, [p]),
        ("vit_model_patch_rows", i, [p]), ("vit_model_patch_columns", i, [p]), ("vit_model_architecture", c, [p]), ("vit_model_kernels", c, [p]), ("vit_model_label", c, [p, i]),
        ("vit_session_create", i, [p, i, i, ctypes.POINTER(p)]),
        ("vit_session_create_with_attention", i, [p, i, i, ctypes.POINTER(i), i, ctypes.POINTER(p)]),
        ("vit_session_free", None, [p]),
        ("vit_session_set_pixels", i, [p, i, i, ctypes.c_void_p, sz, i, i, sz]),
        ("vit_session_set_image_file", i, [p, i, c]),
        ("vit_session_set_image_memory", i, [p, i, ctypes.c_void_p, sz]),
        ("vit_session_run", i, [p, i]),
        ("vit_session_output_count", sz, [p, i]),
        ("vit_session_output", i, [p, i, i, i, f, sz]),
    ]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    if lib.vit_edge_abi_version() != _ABI_VERSION:
        raise ImportError(f"vitedge: {path} implements C ABI {lib.vit_edge_abi_version()}, this module needs {_ABI_VERSION}")
    return lib, path


_lib, library_path = _load()
version = _lib.vit_edge_version().decode()
__version__ = version


def _check(status):
    if status != 0:
        message = _lib.vit_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, Error)(message, status)


class _Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("kernels", ctypes.c_char_p), ("image_width", ctypes.c_int),
                ("image_height", ctypes.c_int), ("max_bytes", ctypes.c_size_t)]


_LAYOUTS = {  # (dtype, channels) -> {format name: vit_pixel_format}
    ("u1", 1): {None: _GRAY8, "gray": _GRAY8},
    ("u1", 3): {None: _RGB24, "rgb": _RGB24, "bgr": _BGR24},
    ("u1", 4): {None: _RGBX32, "rgbx": _RGBX32, "rgba": _RGBX32, "bgrx": _BGRX32, "bgra": _BGRX32},
    ("f4", 1): {None: _GRAYF32, "gray": _GRAYF32},
    ("f4", 3): {None: _RGBF32, "rgb": _RGBF32},
}
_FORMATS = {"gray", "rgb", "bgr", "rgbx", "rgba", "bgrx", "bgra", "yuv420"}


def _pixels(array, format):
    """(vit_pixel_format, array to pass, width, height, row bytes, readable bytes) of an
    image array, checked here (TypeError/ValueError) before anything reaches C."""
    if format is not None and format not in _FORMATS:
        raise ValueError(f"format must be one of {sorted(_FORMATS)} or None, got {format!r}")
    if array.dtype == np.uint8:
        kind = "u1"
    elif array.dtype == np.float32:
        kind = "f4"
    else:
        raise TypeError(f"image arrays are uint8 (0...255) or float32 (0...1), got {array.dtype}"
                        + (" (use .astype(np.float32))" if array.dtype.kind == "f" else ""))
    if format == "yuv420":
        if kind != "u1" or array.ndim != 2:
            raise ValueError(f"a yuv420 frame is a uint8 [H * 3 / 2, W] array, got {array.dtype} {list(array.shape)}")
        rows, width = array.shape
        if rows % 3 or (rows // 3) % 2 or width % 2 or rows == 0:
            raise ValueError(f"a yuv420 frame is [H * 3 / 2, W] with H and W even, got {list(array.shape)}")
        array = np.ascontiguousarray(array)  # the chroma planes follow the Y plane tightly packed
        return _YUV420P, array, width, rows * 2 // 3, 0, array.nbytes
    if array.ndim == 2:
        channels = 1
    elif array.ndim == 3 and array.shape[2] in (1, 3, 4):
        channels = array.shape[2]
    else:
        raise ValueError(f"an image array is [H, W] or [H, W, C] with C 1, 3 or 4, got shape {list(array.shape)}")
    layouts = _LAYOUTS.get((kind, channels))
    if layouts is None or format not in layouts:
        raise ValueError(f"a {array.dtype} array of {channels} channel{'s' if channels > 1 else ''} cannot be format={format!r}"
                         f" (it can be {', '.join(repr(k) for k in (layouts or {}))})")
    height, width = array.shape[0], array.shape[1]
    if height == 0 or width == 0:
        raise ValueError(f"an image needs at least one pixel, got shape {list(array.shape)}")
    pixel = array.itemsize * channels
    # Rows strided as they come (a crop, a padded camera buffer); pixels within a row packed.
    inner = array.strides[1:] == ((array.itemsize,) if array.ndim == 2 else (pixel, array.itemsize))
    if not inner or array.strides[0] < width * pixel or array.strides[0] % array.itemsize:
        array = np.ascontiguousarray(array)
    row = array.strides[0]
    return layouts[format], array, width, height, row, row * (height - 1) + width * pixel


def _single(images):
    return isinstance(images, (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray))


class Model:
    """A .vitq model, loaded once and shared by any number of threads.

    kernels: None (the fastest this CPU runs) or "reference", "xsimd", "avx2", "avx512",
    "swift". image_size: run at another input size (int or (height, width)). threads: per
    forward pass (default: every core). max_bytes: one budget for the file, the weights,
    each session's arena and the pixels of each image (default: the library's 2 GiB).
    """

    def __init__(self, path, kernels=None, image_size=None, threads=None, max_bytes=None):
        self._handle = None
        if isinstance(path, (bytearray, memoryview)) or isinstance(path, bytes) and b"\0" in path:
            raise TypeError("Model takes a path; for a .vitq file in memory use Model.from_bytes(data)")
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"Model takes a path (str or os.PathLike), got {type(path).__name__}")
        path = os.fspath(path)
        if threads is not None and (not isinstance(threads, int) or not 1 <= threads <= 256):
            raise ValueError(f"threads must be an int in 1...256, got {threads!r}")
        options = _Options(ctypes.sizeof(_Options), None, 0, 0, 0)
        if kernels is not None:
            options.kernels = str(kernels).encode()
        if image_size is not None:
            h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
            if not all(isinstance(v, int) and v > 0 for v in (h, w)):
                raise ValueError(f"image_size must be a positive int or (height, width), got {image_size!r}")
            options.image_height, options.image_width = h, w
        if max_bytes is not None:
            if not isinstance(max_bytes, int) or max_bytes <= 0:
                raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}")
            options.max_bytes = max_bytes
        handle = ctypes.c_void_p()
        _check(_lib.vit_model_load_with_options(os.fsencode(path), ctypes.byref(options), ctypes.byref(handle)))
        self._setup(handle, threads)

    @classmethod
    def from_bytes(cls, data, kernels=None, threads=None):
        """A model from the bytes of a .vitq file (copied by the library)."""
        data = bytes(data)
        self = cls.__new__(cls)
        self._handle = None
        handle = ctypes.c_void_p()
        _check(_lib.vit_model_load_memory(data, len(data), kernels.encode() if kernels else None, ctypes.byref(handle)))
        self._setup(handle, threads)
        return self

    def _setup(self, handle, threads):
        self._handle = handle
        self.threads = threads or os.cpu_count() or 1
        self._local = threading.local()
        h = handle
        classes = _lib.vit_model_num_classes(h)
        self.labels = [_lib.vit_model_label(h, i).decode() for i in range(classes)]
        self.info = {
            "architecture": _lib.vit_model_architecture(h).decode(),
            "input_size": (_lib.vit_model_image_height(h), _lib.vit_model_image_width(h)),
            "channels": _lib.vit_model_channels(h),
            "classes": classes,
            "labels": list(self.labels),
            "embedding_size": _lib.vit_model_embedding_size(h),
            "blocks": _lib.vit_model_blocks(h),
            "heads": _lib.vit_model_heads(h),
            "tokens": _lib.vit_model_tokens(h),
            "prefix_tokens": _lib.vit_model_prefix_tokens(h),
            "width": _lib.vit_model_width(h),
            "patch_grid": (_lib.vit_model_patch_rows(h), _lib.vit_model_patch_columns(h)),
            "int8": _lib.vit_model_is_int8(h) == 1,
            "kernels": _lib.vit_model_kernels(h).decode(),
            "threads": self.threads,
        }

    def __del__(self):
        # Sessions keep the weights alive (the library's rule), so the model handle can go
        # whatever sessions other threads still hold.
        if getattr(self, "_handle", None):
            _lib.vit_model_free(self._handle)
            self._handle = None

    def __repr__(self):
        i = self.info
        return (f"vitedge.Model({i['architecture']}, input {i['input_size'][0]}x{i['input_size'][1]}x{i['channels']}, "
                f"{i['classes']} classes, {'int8' if i['int8'] else 'fp32'})")

    # ---- sessions: one per thread and batch size ----

    def _session(self, batch):
        sessions = getattr(self._local, "sessions", None)
        if sessions is None:
            sessions = self._local.sessions = {}
        s = sessions.get(batch)
        if s is None:
            handle = ctypes.c_void_p()
            _check(_lib.vit_session_create(self._handle, batch, self.threads, ctypes.byref(handle)))
            s = sessions[batch] = _Session(handle)
        return s

    def _set(self, session, index, image, format):
        if isinstance(image, np.ndarray):
            fmt, array, w, h, row, size = _pixels(image, format)
            _check(_lib.vit_session_set_pixels(session.handle, index, fmt, array.ctypes.data, size, w, h, row))
            return
        if format is not None:
            raise ValueError(f"format={format!r} is for numpy arrays; files and encoded bytes say their own format")
        if isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            if not data:
                raise ValueError("encoded image bytes are empty")
            _check(_lib.vit_session_set_image_memory(session.handle, index, data, len(data)))
        elif isinstance(image, (str, os.PathLike)):
            _check(_lib.vit_session_set_image_file(session.handle, index, os.fsencode(image)))
        else:
            raise TypeError(f"an image is a path, encoded bytes or a numpy array, got {type(image).__name__}")

    def _batches(self, images, format):
        """Yields (session, count, start) after setting and running each batch."""
        if _single(images):
            items = [images]
        else:
            try:
                items = list(images)
            except TypeError:
                raise TypeError(f"images are a path, encoded bytes or a numpy array, or a list of them; "
                                f"got {type(images).__name__}") from None
        if not items:
            raise ValueError("no images given")
        batch = min(len(items), 8)
        session = self._session(batch)
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            for j, image in enumerate(chunk):
                self._set(session, j, image, format)
            _check(_lib.vit_session_run(session.handle, len(chunk)))
            yield session, len(chunk), start

    def _outputs(self, images, output, format):
        rows = []
        for session, count, _ in self._batches(images, format):
            n = _lib.vit_session_output_count(session.handle, output)
            out = np.empty((count, n), dtype=np.float32)
            for j in range(count):
                _check(_lib.vit_session_output(session.handle, output, j, 0,
                                               out[j].ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n))
            rows.append(out)
        return np.concatenate(rows) if len(rows) > 1 else rows[0]

    # ---- what users call ----

    def logits(self, images, format=None):
        """Logits, float32 [N, classes], of one image or a list of them."""
        return self._outputs(images, _LOGITS, format)

    def probabilities(self, images, format=None):
        """Softmax of the logits (a sigmoid per class for a SigLIP zero-shot head), float32 [N, classes]."""
        return self._outputs(images, _PROBABILITIES, format)

    def embed(self, images, format=None):
        """What the head reads (the pooled token), float32 [N, embedding_size]."""
        return self._outputs(images, _EMBEDDING, format)

    def tokens(self, images, format=None):
        """Every token after the final norm, float32 [N, tokens, width]: info["prefix_tokens"]
        prefix tokens (class, distillation, registers) first, then the patches row by row
        (an info["patch_grid"] grid). DINOv2's patch features; Hugging Face's last_hidden_state."""
        out = self._outputs(images, _TOKENS, format)
        return out.reshape(out.shape[0], self.info["tokens"], self.info["width"])

    def classify(self, image, top_k=5, format=None):
        """The top_k (label, probability) pairs of one image, most probable first (a list
        of such lists for a list of images)."""
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive int, got {top_k!r}")
        if not self.labels:
            raise ValueError("this model outputs embeddings only (no classes): use embed()")
        p = self.probabilities(image, format)
        k = min(top_k, p.shape[1])
        result = []
        for row in p:
            order = np.argsort(-row, kind="stable")[:k]
            result.append([(self.labels[c], float(row[c])) for c in order])
        return result[0] if _single(image) else result

    def attention(self, image, block=-1, format=None):
        """Block `block`'s attention map of one image, float32 [heads, tokens, tokens]
        (block -1: the last)."""
        blocks = self.info["blocks"]
        if not isinstance(block, int) or not -blocks <= block < blocks:
            raise ValueError(f"block must be an int in {-blocks}...{blocks - 1}, got {block!r}")
        block %= blocks
        handle = ctypes.c_void_p()
        wanted = (ctypes.c_int * 1)(block)
        _check(_lib.vit_session_create_with_attention(self._handle, 1, self.threads, wanted, 1, ctypes.byref(handle)))
        session = _Session(handle)
        self._set(session, 0, image, format)
        _check(_lib.vit_session_run(session.handle, 1))
        n = _lib.vit_session_output_count(session.handle, _ATTENTION)
        if n == 0:
            raise ValueError(f"this model ({self.info['architecture']}) has no attention maps")
        out = np.empty(n, dtype=np.float32)
        _check(_lib.vit_session_output(session.handle, _ATTENTION, 0, block, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), n))
        heads, tokens = _lib.vit_model_heads(self._handle), _lib.vit_model_tokens(self._handle)
        return out.reshape(heads, tokens, tokens)


class _Session:
    __slots__ = ("handle",)

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        if self.handle:
            _lib.vit_session_free(self.handle)
            self.handle = None

"""Import shim for machines whose torchvision wheel does not match torch.

PyPI's torchvision wheels are CUDA builds. Paired with the CPU build of torch,
`import torchvision` (and so `import timm`) fails while registering fake kernels
for the `torchvision::nms` / `qnms` operators whose C++ library cannot load.
Declaring the two schemas first lets the import finish; vit-edge's tools never
call those operators. On a machine with matching wheels this does nothing.
"""
import torch


def patch_torchvision():
    try:
        import torchvision  # noqa: F401
        return
    except Exception:
        pass
    lib = torch.library.Library("torchvision", "DEF")
    for op in ("nms", "qnms"):
        try:
            lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        except RuntimeError:
            pass
    patch_torchvision.lib = lib  # keep the registration alive


patch_torchvision()

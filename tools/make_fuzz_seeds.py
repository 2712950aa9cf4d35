#!/usr/bin/env python3
"""Write the fuzzers' seed corpus (Fuzz/Corpus/*): small valid inputs of every format.
Needs torch + timm (tools/requirements.txt) and a built vit-edge (make build)."""
import json, os, struct, subprocess, sys
import lz4.frame, numpy as np, torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_compat  # noqa: F401
import timm
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C = os.path.join(ROOT, "Fuzz", "Corpus")
BIN = os.path.join(ROOT, ".build", "release", "vit-edge")


def w(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


torch.manual_seed(0)
m = timm.models.vision_transformer.VisionTransformer(img_size=8, patch_size=4, in_chans=1, num_classes=3,
                                                     embed_dim=8, depth=1, num_heads=2, mlp_ratio=2.0)
st = os.path.join(C, "safetensors", "tiny-timm.safetensors")
os.makedirs(os.path.dirname(st), exist_ok=True)
save_file({k: v.contiguous() for k, v in m.state_dict().items()}, st)
save_file({k: v.contiguous().half() for k, v in m.state_dict().items()}, st.replace(".safetensors", "-f16.safetensors"))
vq = os.path.join(C, "vitq", "tiny.vitq")
os.makedirs(os.path.dirname(vq), exist_ok=True)
subprocess.check_call([BIN, "convert", st, "--heads", "2", "-o", vq], stdout=subprocess.DEVNULL)
subprocess.check_call([BIN, "quantize", vq, "-o", vq.replace(".vitq", "-int8.vitq")], stdout=subprocess.DEVNULL)
for name in ("tiny.vitq", "tiny-int8.vitq"):
    data = open(os.path.join(C, "vitq", name), "rb").read()
    h = struct.unpack("<I", data[8:12])[0]
    w(os.path.join(C, "vitq-header", name + ".json"), lz4.frame.decompress(data[16:16 + h]))
# The other architectures: a tiny MLP-Mixer, ResMLP (timm and Facebook names) and a
# stem-only ResNet+ViT hybrid, as safetensors (FuzzConvert) and .vitq (+ header) seeds.
from functools import partial
from timm.layers import StdConv2dSame
from timm.models.mlp_mixer import MlpMixer, ResBlock, Affine
from timm.models.resnetv2 import create_resnetv2_stem
from timm.models.vision_transformer_hybrid import HybridEmbed
others = {
    "tiny-mixer": (MlpMixer(num_classes=3, img_size=8, in_chans=1, patch_size=4, num_blocks=1, embed_dim=8), []),
    "tiny-resmlp": (MlpMixer(num_classes=3, img_size=8, in_chans=1, patch_size=4, num_blocks=1, embed_dim=8, mlp_ratio=4,
                             block_layer=ResBlock, norm_layer=Affine), []),
    "tiny-hybrid": (timm.models.vision_transformer.VisionTransformer(
        img_size=8, patch_size=1, in_chans=1, num_classes=3, embed_dim=8, depth=1, num_heads=2,
        embed_layer=partial(HybridEmbed, backbone=create_resnetv2_stem(1, out_chs=32, stem_type="same", preact=False,
                                                                       conv_layer=partial(StdConv2dSame, eps=1e-8)))),
        ["--heads", "2"]),
}
for name, (model, flags) in others.items():
    path = os.path.join(C, "safetensors", name + ".safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    out = os.path.join(C, "vitq", name + ".vitq")
    subprocess.check_call([BIN, "convert", path, "-o", out] + flags, stdout=subprocess.DEVNULL)
    data = open(out, "rb").read()
    h = struct.unpack("<I", data[8:12])[0]
    w(os.path.join(C, "vitq-header", name + ".vitq.json"), lz4.frame.decompress(data[16:16 + h]))
img = (np.arange(6 * 5) * 8).astype(np.uint8).reshape(5, 6)
w(os.path.join(C, "image", "p5.pgm"), b"P5\n6 5\n255\n" + img.tobytes())
w(os.path.join(C, "image", "p2.pgm"), b"P2\n# comment\n3 2\n15\n0 1 2\n3 4 15\n")
w(os.path.join(C, "image", "p3.ppm"), b"P3 2 1 255 255 0 0 0 255 0\n")
w(os.path.join(C, "image", "p6-16bit.ppm"), b"P6 1 2 65535\n" + bytes(range(12)))
w(os.path.join(C, "image", "stream.pgm"), b"P5 1 1 255\n\x07P5 1 1 255\n\x08")
idx = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 3, 3) + bytes(range(18))
w(os.path.join(C, "idx", "images.idx3"), idx)
w(os.path.join(C, "idx", "labels.idx1"), struct.pack(">BBBBI", 0, 0, 8, 1, 4) + bytes([1, 2, 3, 4]))
w(os.path.join(C, "idx", "images.idx3.lz4"), lz4.frame.compress(idx, content_checksum=True, store_size=True))
print("seeds written to", C)

# FuzzStream: one byte (read size - 1), then concatenated images as on `run -`'s standard input.
frames = [open(os.path.join(C, "image", n), "rb").read() for n in ("p5.pgm", "p2.pgm", "p6-16bit.ppm", "p3.ppm")]
w(os.path.join(C, "stream", "one-byte-reads"), bytes([0]) + b"\n".join(frames))
w(os.path.join(C, "stream", "seven-byte-reads"), bytes([6]) + frames[0] + frames[0] + frames[2])
w(os.path.join(C, "stream", "whole-reads"), bytes([255]) + frames[2] + b" \n" + frames[1] + frames[3])

# FuzzCameraStream: byte 0 even = MJPEG (then concatenated JPEGs); odd = raw, format in
# bits 1-2 (gray8, rgb24, yuv420p, nv12), bytes 1-2 the size - 1, then the frames.
IM = os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures", "images")
jpegs = [open(os.path.join(IM, n), "rb").read() for n in ("jpeg-q20.jpg", "jpeg-gray.jpg")]
w(os.path.join(C, "camera", "mjpeg-two-frames"), bytes([0]) + jpegs[0] + jpegs[1])
w(os.path.join(C, "camera", "raw-gray8-4x3"), bytes([1, 3, 2]) + bytes(range(24)))
w(os.path.join(C, "camera", "raw-rgb24-2x2"), bytes([3, 1, 1]) + bytes(range(0, 240, 10)))
w(os.path.join(C, "camera", "raw-yuv420p-5x3"), bytes([5, 4, 2]) + bytes(range(15)) + bytes([128] * 12) + bytes(range(27)))
w(os.path.join(C, "camera", "raw-nv12-4x4"), bytes([7, 3, 3]) + bytes(range(16)) + bytes([100, 150] * 4))

# The foundation encoders' layouts (FuzzSafetensors): DINOv2 with registers (Hugging
# Face and timm names), a Hugging Face CLIP tower with its projection, OpenAI's `visual.`
# names. Tiny: 8x8 images, patch 4, width 8, one block.
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection, Dinov2WithRegistersConfig, Dinov2WithRegistersModel
from open_clip.transformer import VisionTransformer as OpenCLIPVisionTransformer
torch.manual_seed(1)
encoders = {
    "tiny-hf-dinov2-reg": Dinov2WithRegistersModel(Dinov2WithRegistersConfig(
        hidden_size=8, num_hidden_layers=1, num_attention_heads=2, mlp_ratio=2, image_size=8, patch_size=4,
        num_channels=1, num_register_tokens=2)).state_dict(),
    "tiny-timm-dinov2-reg": timm.create_model("vit_small_patch14_reg4_dinov2", pretrained=False, num_classes=0, img_size=8,
                                              patch_size=4, embed_dim=8, depth=1, num_heads=2, in_chans=1).state_dict(),
    "tiny-hf-clip": CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=8, patch_size=4,
        projection_dim=4, num_channels=1)).state_dict(),
    "tiny-openai-clip": {"visual." + k: v for k, v in OpenCLIPVisionTransformer(
        image_size=8, patch_size=4, width=8, layers=1, heads=2, mlp_ratio=2.0, output_dim=4).state_dict().items()},
}
for name, state in encoders.items():
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(C, "safetensors", name + ".safetensors"))
print("encoder seeds written")
for name in ("tiny-hf-dinov2-reg", "tiny-hf-clip"):
    out = os.path.join(C, "vitq", name + ".vitq")
    subprocess.check_call([BIN, "convert", os.path.join(C, "safetensors", name + ".safetensors"), "--heads", "2", "-o", out],
                          stdout=subprocess.DEVNULL)
    data = open(out, "rb").read()
    h = struct.unpack("<I", data[8:12])[0]
    w(os.path.join(C, "vitq-header", name + ".vitq.json"), lz4.frame.decompress(data[16:16 + h]))
# A zero-shot head's text embeddings (FuzzSafetensors also reads every input as one).
import shutil
shutil.copy(os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures", "parity", "hf-clip-zeroshot", "text.safetensors"),
            os.path.join(C, "safetensors", "text-embeddings.safetensors"))

# SigLIP towers (the MAP head): Hugging Face under the hub's `vision_model.` names, timm's
# `attn_pool`; a SigLIP zero-shot head's text embeddings (logit_bias, sigmoid).
from transformers import SiglipVisionConfig, SiglipVisionModel
torch.manual_seed(2)
siglip = {
    "tiny-hf-siglip": {"vision_model." + k: v for k, v in SiglipVisionModel(SiglipVisionConfig(
        hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=8, patch_size=4,
        num_channels=1)).state_dict().items()},
    "tiny-timm-siglip": timm.create_model("vit_base_patch16_siglip_224", pretrained=False, num_classes=0, img_size=8,
                                          patch_size=4, embed_dim=8, depth=1, num_heads=2, in_chans=1).state_dict(),
}
for name, state in siglip.items():
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(C, "safetensors", name + ".safetensors"))
out = os.path.join(C, "vitq", "tiny-hf-siglip.vitq")
subprocess.check_call([BIN, "convert", os.path.join(C, "safetensors", "tiny-hf-siglip.safetensors"), "--heads", "2", "-o", out],
                      stdout=subprocess.DEVNULL)
data = open(out, "rb").read()
h = struct.unpack("<I", data[8:12])[0]
w(os.path.join(C, "vitq-header", "tiny-hf-siglip.vitq.json"), lz4.frame.decompress(data[16:16 + h]))
shutil.copy(os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures", "parity", "hf-siglip-zeroshot", "text.safetensors"),
            os.path.join(C, "safetensors", "text-embeddings-siglip.safetensors"))

# DeepViT (vit-pytorch, re-attention): the checkpoint, its .vitq and the header.
from vit_pytorch.deepvit import DeepViT
torch.manual_seed(3)
state = DeepViT(image_size=8, patch_size=4, num_classes=3, dim=8, depth=1, heads=2, mlp_dim=16, channels=1,
                dim_head=4).state_dict()
save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(C, "safetensors", "tiny-deepvit.safetensors"))


def convert_seed(name, *args):
    """Converts safetensors/NAME.safetensors into vitq/NAME.vitq and writes its header's JSON."""
    out = os.path.join(C, "vitq", name + ".vitq")
    subprocess.check_call([BIN, "convert", os.path.join(C, "safetensors", name + ".safetensors"), *args, "-o", out],
                          stdout=subprocess.DEVNULL)
    data = open(out, "rb").read()
    h = struct.unpack("<I", data[8:12])[0]
    w(os.path.join(C, "vitq-header", name + ".vitq.json"), lz4.frame.decompress(data[16:16 + h]))


convert_seed("tiny-deepvit", "--heads", "2")

# T2T-ViT (vit-pytorch, soft splits): the checkpoint with its keyword arguments, the .vitq
# and the header; the parity fixture's config.json is FuzzConfigJSON's seed beside its checkpoint.
from vit_pytorch.t2t import T2TViT
torch.manual_seed(4)
kw = dict(image_size=8, num_classes=3, dim=8, depth=1, heads=2, mlp_dim=16, channels=1, dim_head=4,
          t2t_layers=((3, 2), (3, 2)))
save_file({k: v.contiguous() for k, v in T2TViT(**kw).state_dict().items()}, os.path.join(C, "safetensors", "tiny-t2t.safetensors"))
cfg = os.path.join(C, "config-json", "tiny-t2t.json")
w(cfg, json.dumps(kw).encode())
convert_seed("tiny-t2t", "--config", cfg)
shutil.copy(os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures", "parity", "vit-pytorch-t2t", "config.json"),
            os.path.join(C, "config-json", "vit-pytorch-t2t.json"))

# Swin (timm SwinTransformer): a two-stage 16x16 model (patch 2, window 4: a shifted stage
# and a merge), the checkpoint with its config, the .vitq and its header.
from timm.models.swin_transformer import SwinTransformer
torch.manual_seed(5)
m = SwinTransformer(img_size=16, patch_size=2, in_chans=1, num_classes=3, embed_dim=8, depths=(2, 1), num_heads=(2, 2),
                    window_size=4, mlp_ratio=2.0)
save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(C, "safetensors", "tiny-swin.safetensors"))
cfg = os.path.join(C, "config-json", "tiny-swin.json")
w(cfg, json.dumps({"architecture": "swin_tiny_patch2_window4_16", "model_args": {"window_size": 4, "img_size": 16}}).encode())
convert_seed("tiny-swin", "--config", cfg)

# PVT v2 (timm PyramidVisionTransformerV2): two stages on 16x16 (overlapping 7x7/4 patches,
# a reduction of 2, a 3x3/2 downsampling), the checkpoint with its config, the .vitq and header.
from timm.models.pvt_v2 import PyramidVisionTransformerV2
torch.manual_seed(6)
args = dict(depths=(1, 1), embed_dims=(8, 16), num_heads=(1, 2), sr_ratios=(2, 1), mlp_ratios=(2, 2))
m = PyramidVisionTransformerV2(in_chans=1, num_classes=3, **args)
save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(C, "safetensors", "tiny-pvt.safetensors"))
cfg = os.path.join(C, "config-json", "tiny-pvt.json")
w(cfg, json.dumps({"architecture": "pvt_v2_tiny_16", "model_args": {**{k: list(v) for k, v in args.items()}, "img_size": 16}}).encode())
convert_seed("tiny-pvt", "--config", cfg)
# Its linear variant (keys pooled to 7x7, pvt_linear in the header).
torch.manual_seed(7)
args = dict(depths=(1, 1), embed_dims=(8, 16), num_heads=(1, 2), mlp_ratios=(2, 2), linear=True)
m = PyramidVisionTransformerV2(in_chans=1, num_classes=3, **args)
save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(C, "safetensors", "tiny-pvt-li.safetensors"))
cfg = os.path.join(C, "config-json", "tiny-pvt-li.json")
w(cfg, json.dumps({"architecture": "pvt_v2_tiny_li_16", "model_args": {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in args.items()},
                                                                      "img_size": 16}}).encode())
convert_seed("tiny-pvt-li", "--config", cfg)

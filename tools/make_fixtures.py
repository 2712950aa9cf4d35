#!/usr/bin/env python3
"""Export the PyTorch reference outputs the Swift tests compare against.

Writes Tests/VitEdgeTests/Fixtures/:
  mnist-golden.safetensors   the shipped MNIST model on the 12 sample digits:
                             input [12,1,28,28] and every stage (patch_embedding,
                             block.0..5, final_norm, pooled, logits), plus the
                             logits of the whole 10k test split (test_logits).
  mnist-mixer-golden.safetensors  the shipped MNIST MLP-Mixer: the 12 samples' input and
                             logits, and the logits of the whole test split.
  parity/<case>/             one small model per family and layout, made with that
                             family's own library: model.safetensors, config.json
                             (when the family has one), args.txt (convert flags) and
                             expected.safetensors (input as PyTorch saw it, logits;
                             for the MLP models also the tokens after the stem and
                             after each block).

The inputs are the real MNIST sample digits in models/samples, preprocessed exactly
as vit-edge does (gray replicated to RGB where needed, bilinear resize with
align_corners=False, then mean/std), so a test also checks preprocessing.

    python3 tools/make_fixtures.py
"""
import glob, json, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_compat  # noqa: F401
from safetensors.torch import save_file, load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "VitEdgeTests", "Fixtures")


def read_pgm(path):
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5"
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][-w * h:], dtype=np.uint8).reshape(h, w)


def samples():
    paths = sorted(glob.glob(os.path.join(ROOT, "models", "samples", "*.pgm")))
    return paths, np.stack([read_pgm(p) for p in paths]).astype(np.float32) / 255.0


def prepare(gray, channels, size, mean, std):
    x = torch.from_numpy(gray).unsqueeze(1)  # [N,1,28,28] in [0,1]
    if channels == 3:
        x = x.repeat(1, 3, 1, 1)
    if tuple(size) != (28, 28):
        x = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return (x - m) / s


def read_idx(path):
    data = open(path, "rb").read()
    if data[:4] == b"\x04\x22\x4d\x18":
        import lz4.frame
        data = lz4.frame.decompress(data)
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


@torch.no_grad()
def mnist_golden():
    import timm
    d = os.path.join(ROOT, "models", "mnist-vit")
    cfg = json.load(open(os.path.join(d, "config.json")))
    m = timm.models.vision_transformer.VisionTransformer(
        img_size=28, patch_size=4, in_chans=1, num_classes=10, embed_dim=64, depth=6,
        num_heads=4, mlp_ratio=2.0, qkv_bias=True, global_pool="token").eval()
    m.load_state_dict(load_file(os.path.join(d, "model.safetensors")))
    mean, std = cfg["pretrained_cfg"]["mean"], cfg["pretrained_cfg"]["std"]
    _, gray = samples()
    x = prepare(gray, 1, (28, 28), mean, std)
    out = {"input": x}
    t = m.patch_embed(x)
    t = m._pos_embed(t)
    out["patch_embedding"] = t
    for i, blk in enumerate(m.blocks):
        t = blk(t)
        out[f"block.{i}"] = t
    t = m.norm(t)
    out["final_norm"] = t
    pooled = m.forward_head(t, pre_logits=True)
    out["pooled"] = pooled
    out["logits"] = m.head(pooled)
    assert torch.allclose(out["logits"], m(x), atol=1e-5)
    # The whole test split, for prediction parity through `vit-edge eval`.
    imgs = read_idx(os.path.join(ROOT, "models", "mnist-test-images.idx3-ubyte.lz4")).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(ROOT, "models", "mnist-test-labels.idx1-ubyte.lz4"))
    xs = prepare(imgs, 1, (28, 28), mean, std)
    logits = torch.cat([m(xs[i:i + 1000]) for i in range(0, len(xs), 1000)])
    acc = (logits.argmax(1).numpy() == labels).mean()
    print(f"mnist: PyTorch test accuracy {acc:.4f}")
    out["test_logits"] = logits
    # Position embeddings resampled as Hugging Face does (bicubic to size, align_corners=False,
    # no antialias), prefix row untouched: up to 10x10 and down to 5x5.
    pe = m.pos_embed.detach()[0]
    grid = pe[1:].reshape(1, 7, 7, -1).permute(0, 3, 1, 2)
    for n in (10, 5):
        g = F.interpolate(grid, size=(n, n), mode="bicubic", align_corners=False)
        out[f"pos_embed_{n}x{n}"] = torch.cat([pe[:1], g.permute(0, 2, 3, 1).reshape(n * n, -1)])
    save_file({k: v.contiguous().float() for k, v in out.items()}, os.path.join(FIX, "mnist-golden.safetensors"))
    return acc


@torch.no_grad()
def mnist_mixer_golden():
    """The shipped MNIST MLP-Mixer: logits of the 12 samples and of the whole test split."""
    from timm.models.mlp_mixer import MlpMixer
    d = os.path.join(ROOT, "models", "mnist-mixer")
    cfg = json.load(open(os.path.join(d, "config.json")))
    args = dict(cfg["model_args"])
    args["mlp_ratio"] = tuple(args["mlp_ratio"])
    m = MlpMixer(num_classes=cfg["num_classes"], **args).eval()
    m.load_state_dict(load_file(os.path.join(d, "model.safetensors")))
    mean, std = cfg["pretrained_cfg"]["mean"], cfg["pretrained_cfg"]["std"]
    _, gray = samples()
    out = {"input": prepare(gray, 1, (28, 28), mean, std)}
    out["logits"] = m(out["input"])
    imgs = read_idx(os.path.join(ROOT, "models", "mnist-test-images.idx3-ubyte.lz4")).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(ROOT, "models", "mnist-test-labels.idx1-ubyte.lz4"))
    xs = prepare(imgs, 1, (28, 28), mean, std)
    logits = torch.cat([m(xs[i:i + 1000]) for i in range(0, len(xs), 1000)])
    print(f"mnist-mixer: PyTorch test accuracy {(logits.argmax(1).numpy() == labels).mean():.4f}")
    out["test_logits"] = logits
    save_file({k: v.contiguous().float() for k, v in out.items()}, os.path.join(FIX, "mnist-mixer-golden.safetensors"))


def save_case(name, model, state, config, args, channels, size, mean, std, stages=False):
    d = os.path.join(FIX, "parity", name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(d, "model.safetensors"))
    if config is not None:
        json.dump(config, open(os.path.join(d, "config.json"), "w"), indent=1)
    open(os.path.join(d, "args.txt"), "w").write(" ".join(args) + "\n")
    _, gray = samples()
    x = prepare(gray[:4], channels, size, mean, std)
    seen = {}
    if stages:
        # Stage by stage: the tokens after the stem and after each block [B, N, D].
        # (MLP models: after the stem; ViTs: after patches, prefix tokens and positions.)
        first = model.stem if hasattr(model, "stem") else model.norm_pre
        first.register_forward_hook(lambda m, i, o: seen.__setitem__("patch_embedding", o))
        for b, blk in enumerate(model.blocks):
            blk.register_forward_hook(lambda m, i, o, b=b: seen.__setitem__(f"block.{b}", o))
    with torch.no_grad():
        y = model(x)
        if isinstance(y, tuple):
            y = y[0]
        if hasattr(y, "logits"):
            y = y.logits
        elif hasattr(y, "image_embeds"):
            y = y.image_embeds
        elif hasattr(y, "pooler_output"):
            y = y.pooler_output
    out = {"input": x.contiguous(), "logits": y.contiguous().float()}
    out.update({k: v.contiguous().float() for k, v in seen.items()})
    save_file(out, os.path.join(d, "expected.safetensors"))
    print(f"{name}: {sum(v.numel() for v in state.values())} values, output {tuple(y.shape)}")


def timm_cases():
    import timm
    from timm.models.vision_transformer import VisionTransformer
    from timm.models.deit import VisionTransformerDistilled
    mean, std = [0.5] * 3, [0.5] * 3
    torch.manual_seed(1)
    # DeiT with a distillation token, 3 channels, 32x32 (resized from 28), qkv without bias.
    m = VisionTransformerDistilled(img_size=32, patch_size=8, in_chans=3, num_classes=10, embed_dim=48,
                                   depth=2, num_heads=3, mlp_ratio=2.0, qkv_bias=False).eval()
    m.distilled_training = False
    # The input is the digit resized 28 -> 32 by plain F.interpolate (see prepare): timm's
    # squash mode at crop_pct 1, with vit-edge's pytorch resampler, is that transform.
    cfg = {"architecture": "deit_tiny_distilled_patch8_32", "num_classes": 10,
           "model_args": {"num_heads": 3}, "pretrained_cfg": {"input_size": [3, 32, 32], "mean": mean, "std": std,
                                                              "interpolation": "bilinear", "crop_pct": 1.0,
                                                              "crop_mode": "squash"}}
    save_case("timm-deit-distilled", m, m.state_dict(), cfg, ["--resampler", "pytorch"], 3, (32, 32), mean, std)
    # Average pooling with fc_norm, no class-token position row (no_embed_class),
    # layer scale, tanh GELU passed as a flag.
    torch.manual_seed(2)
    m = VisionTransformer(img_size=28, patch_size=7, in_chans=1, num_classes=5, embed_dim=32, depth=2,
                          num_heads=2, mlp_ratio=3.0, global_pool="avg", fc_norm=True, no_embed_class=True,
                          init_values=0.5, act_layer=lambda: torch.nn.GELU(approximate="tanh")).eval()
    save_case("timm-avgpool-layerscale", m, m.state_dict(), None,
              ["--heads", "2", "--gelu", "tanh", "--pool", "mean", "--mean", "0.1307", "--std", "0.3081",
               "--image-size", "28"], 1, (28, 28), [0.1307], [0.3081])


def randomize(model, seed):
    """timm initialises MLP biases near 0, the head to 0 and layer scale to 1e-4: a
    parity test on such weights would not see half the model. Every parameter gets
    values of a trained model's magnitude instead."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("norm1.weight", "norm2.weight", "norm3.weight", "norm.weight", ".alpha")):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith((".ls1", ".ls2")):
                p.copy_(0.3 + 0.2 * torch.rand(p.shape, generator=g))
            elif p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def to_facebook_resmlp(state):
    """timm's names back to Facebook's ResMLP release (the inverse of timm's
    checkpoint_filter_fn): patch_embed., attn., mlp., gamma_N, affine α/β as [D]."""
    out = {}
    for k, v in state.items():
        k2 = k.replace("stem.", "patch_embed.").replace("linear_tokens.", "attn.").replace("mlp_channels.", "mlp.")
        k2 = k2.replace(".ls1", ".gamma_1").replace(".ls2", ".gamma_2")
        out[k2] = v.reshape(-1) if k.endswith((".alpha", ".beta")) else v
    return out


def mlp_cases():
    """timm's MlpMixer class: MLP-Mixer and ResMLP (timm and Facebook names)."""
    from timm.models.mlp_mixer import MlpMixer, ResBlock, Affine
    mean, std = [0.1307], [0.3081]
    m = MlpMixer(num_classes=10, img_size=28, in_chans=1, patch_size=7, num_blocks=3, embed_dim=32).eval()
    randomize(m, 11)
    cfg = {"architecture": "mixer_tiny_patch7_28", "num_classes": 10,
           "pretrained_cfg": {"input_size": [1, 28, 28], "mean": mean, "std": std, "interpolation": "bilinear",
                              "crop_pct": 1.0, "crop_mode": "center"}}
    save_case("timm-mixer", m, m.state_dict(), cfg, [], 1, (28, 28), mean, std, stages=True)
    # ResMLP, 3 channels (the gray digit replicated), ImageNet mean/std as timm's resmlp cfgs.
    mean3, std3 = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    m = MlpMixer(num_classes=10, img_size=28, in_chans=3, patch_size=4, num_blocks=2, embed_dim=24, mlp_ratio=4,
                 block_layer=ResBlock, norm_layer=Affine, stem_norm=False).eval()
    randomize(m, 12)
    cfg = {"architecture": "resmlp_tiny_patch4_28", "num_classes": 10,
           "pretrained_cfg": {"input_size": [3, 28, 28], "mean": mean3, "std": std3, "interpolation": "bicubic",
                              "crop_pct": 1.0, "crop_mode": "center"}}
    save_case("timm-resmlp", m, m.state_dict(), cfg, [], 3, (28, 28), mean3, std3, stages=True)
    save_case("fb-resmlp", m, to_facebook_resmlp(m.state_dict()), None,
              ["--image-size", "28", "--mean", ",".join(map(str, mean3)), "--std", ",".join(map(str, std3))],
              3, (28, 28), mean3, std3)


def hybrid_cases():
    """The ViT paper's hybrid with timm's own classes (HybridEmbed over a ResNetV2 with
    StdConv2dSame(eps=1e-8), GroupNorm(32), the 'same' stem): a stem-only backbone as
    in vit_tiny_r_s16_p8 and a two-stage ResNet as in vit_small_r26_s32 (odd feature
    sizes, so the asymmetric TF padding is exercised)."""
    from functools import partial
    from timm.layers import StdConv2dSame
    from timm.models.resnetv2 import ResNetV2, create_resnetv2_stem
    from timm.models.vision_transformer import VisionTransformer
    from timm.models.vision_transformer_hybrid import HybridEmbed
    conv = partial(StdConv2dSame, eps=1e-8)
    mean, std = [0.5] * 3, [0.5] * 3
    # Stem only, 1 channel, 32x32 (resized from 28 by plain interpolation), patch 2 on the 8x8 map.
    stem = create_resnetv2_stem(1, out_chs=32, stem_type="same", preact=False, conv_layer=conv)
    m = VisionTransformer(img_size=32, patch_size=2, in_chans=1, num_classes=10, embed_dim=48, depth=2, num_heads=3,
                          embed_layer=partial(HybridEmbed, backbone=stem)).eval()
    randomize(m, 21)
    cfg = {"architecture": "vit_tiny_r_s4_p2_32", "num_classes": 10, "model_args": {"num_heads": 3},
           "pretrained_cfg": {"input_size": [1, 32, 32], "mean": [0.5], "std": [0.5], "interpolation": "bilinear",
                              "crop_pct": 1.0, "crop_mode": "squash"}}
    save_case("timm-hybrid-stem", m, m.state_dict(), cfg, ["--resampler", "pytorch"], 1, (32, 32), [0.5], [0.5], stages=True)
    # A ResNetV2 of two stages (1 and 2 bottlenecks), 3 channels at 28x28: 14, 7, 7, 4; patch 1.
    backbone = ResNetV2(layers=(1, 2), channels=(128, 256), stem_chs=32, num_classes=0, global_pool="", in_chans=3,
                        preact=False, stem_type="same", conv_layer=conv)
    m = VisionTransformer(img_size=28, patch_size=1, in_chans=3, num_classes=10, embed_dim=48, depth=2, num_heads=4,
                          embed_layer=partial(HybridEmbed, backbone=backbone)).eval()
    randomize(m, 22)
    cfg = {"architecture": "vit_small_r2_s16_p1_28", "num_classes": 10, "model_args": {"num_heads": 4},
           "pretrained_cfg": {"input_size": [3, 28, 28], "mean": mean, "std": std, "interpolation": "bicubic",
                              "crop_pct": 1.0, "crop_mode": "center"}}
    save_case("timm-hybrid-resnet", m, m.state_dict(), cfg, [], 3, (28, 28), mean, std, stages=True)


def hf_cases():
    from transformers import ViTConfig, ViTForImageClassification, ViTModel
    torch.manual_seed(3)
    cfg = ViTConfig(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96,
                    image_size=28, patch_size=4, num_channels=1, qkv_bias=True, num_labels=10,
                    id2label={i: f"digit {i}" for i in range(10)}, label2id={f"digit {i}": i for i in range(10)})
    m = ViTForImageClassification(cfg).eval()
    for p in m.parameters():  # HF initialises LayerNorms to identity and biases to zero: perturb them
        torch.nn.init.normal_(p, std=0.2) if p.dim() == 1 else None
    state = m.state_dict()
    conf = cfg.to_dict()
    save_case("hf-vit-new-names", m, state, conf, ["--mean", "0.5", "--std", "0.5"], 1, (28, 28), [0.5], [0.5])
    # The same weights under the classic names of published checkpoints.
    classic = {}
    for k, v in state.items():
        k2 = k.replace("vit.layers.", "vit.encoder.layer.")
        for a, b in [(".attention.q_proj", ".attention.attention.query"), (".attention.k_proj", ".attention.attention.key"),
                     (".attention.v_proj", ".attention.attention.value"), (".attention.o_proj", ".attention.output.dense"),
                     (".mlp.fc1", ".intermediate.dense"), (".mlp.fc2", ".output.dense")]:
            k2 = k2.replace(a, b)
        classic[k2] = v
    save_case("hf-vit-classic-names", m, classic, conf, ["--mean", "0.5", "--std", "0.5"], 1, (28, 28), [0.5], [0.5])
    # ViTModel with its pooler (Linear + tanh) and no head: features out, 3 channels, 32x32.
    torch.manual_seed(4)
    cfg2 = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                     image_size=32, patch_size=8, num_channels=3, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
    m2 = ViTModel(cfg2, add_pooling_layer=True).eval()
    for p in m2.parameters():
        torch.nn.init.normal_(p, std=0.2) if p.dim() == 1 else None
    save_case("hf-vitmodel-pooler", m2, m2.state_dict(), cfg2.to_dict(), [], 3, (32, 32), [0.5] * 3, [0.5] * 3)


def outputs_at(size, model, channels, mean, std, run):
    """The four sample digits at size x size and what `run(model, x)` returns for them: a
    case's `input_at` / `logits_at` (the model at another input size)."""
    _, gray = samples()
    x = prepare(gray[:4], channels, (size, size), mean, std)
    with torch.no_grad():
        return {"input_at": x.contiguous(), "logits_at": run(model, x).contiguous().float()}


def add_to_expected(name, extra):
    """Adds tensors to parity/<name>/expected.safetensors (written by save_case)."""
    path = os.path.join(FIX, "parity", name, "expected.safetensors")
    out = load_file(path)
    out.update(extra)
    save_file(out, path)


def final_tokens(name, model, channels, size, mean, std, run):
    """Adds `tokens` to a case: every token after the final norm for the four digits
    (what `embed --tokens` writes): Hugging Face's last_hidden_state, timm's forward_features."""
    _, gray = samples()
    x = prepare(gray[:4], channels, size, mean, std)
    with torch.no_grad():
        add_to_expected(name, {"tokens": run(model, x).contiguous().float()})


def perturb_vectors(model, seed):
    """Hugging Face initialises LayerNorms to identity, biases, registers and mask tokens
    to zero and layer scale to one value: give every vector a trained model's spread."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("lambda1"):
                p.copy_(0.3 + 0.4 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1 or "register_tokens" in name or "cls_token" in name:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def dinov2_cases():
    """DINOv2 as Hugging Face and timm build it: register tokens (no position), layer
    scale (folded into attn.proj and mlp.fc2 at convert), the embedding each library
    calls the image embedding (pooler_output; timm's pooled features). Each case also
    holds the same digits at another size (36x36, 40x40 for patch 8: `input_at`) and the
    library's output there (`logits_at`): the position embedding resampled as that
    library does."""
    from transformers import Dinov2Config, Dinov2Model, Dinov2WithRegistersConfig, Dinov2WithRegistersModel

    def at(size, model, channels, mean, std, pooled=lambda y: y.pooler_output):
        return outputs_at(size, model, channels, mean, std, lambda m, x: pooled(m(x)))

    torch.manual_seed(8)
    cfg = Dinov2WithRegistersConfig(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2,
                                    image_size=28, patch_size=4, num_channels=1, num_register_tokens=4,
                                    layerscale_value=0.5, layer_norm_eps=1e-6)
    m = Dinov2WithRegistersModel(cfg).eval()
    perturb_vectors(m, 8)
    # Under the names of the checkpoints published on the hub (facebook/dinov2-with-registers-*);
    # hf-dinov2 below keeps transformers 5.x's.
    hub = {}
    for k, v in m.state_dict().items():
        for a, b in [(".attention.q_proj", ".attention.attention.query"), (".attention.k_proj", ".attention.attention.key"),
                     (".attention.v_proj", ".attention.attention.value"), (".attention.o_proj", ".attention.output.dense")]:
            k = k.replace(a, b)
        hub[k] = v
    save_case("hf-dinov2-registers", m, hub, cfg.to_dict(), ["--mean", "0.5", "--std", "0.5"],
              1, (28, 28), [0.5], [0.5])
    final_tokens("hf-dinov2-registers", m, 1, (28, 28), [0.5], [0.5], lambda m, x: m(x).last_hidden_state)
    add_to_expected("hf-dinov2-registers", at(36, m, 1, [0.5], [0.5]))
    torch.manual_seed(9)
    cfg = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=3,
                       image_size=32, patch_size=8, num_channels=3, layerscale_value=0.5, layer_norm_eps=1e-6)
    m = Dinov2Model(cfg).eval()
    perturb_vectors(m, 9)
    save_case("hf-dinov2", m, m.state_dict(), cfg.to_dict(), [], 3, (32, 32), [0.5] * 3, [0.5] * 3)
    final_tokens("hf-dinov2", m, 3, (32, 32), [0.5] * 3, [0.5] * 3, lambda m, x: m(x).last_hidden_state)
    add_to_expected("hf-dinov2", at(40, m, 3, [0.5] * 3, [0.5] * 3))
    # Dinov2WithRegistersForImageClassification (facebook/dinov2-*-imagenet1k-1-layer's head):
    # the class token beside the mean of the patch tokens, registers excluded, into a Linear.
    from transformers import Dinov2WithRegistersForImageClassification
    torch.manual_seed(19)
    cfg = Dinov2WithRegistersConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2,
                                    image_size=28, patch_size=4, num_channels=1, num_register_tokens=2,
                                    layerscale_value=0.5, layer_norm_eps=1e-6, num_labels=5)
    m = Dinov2WithRegistersForImageClassification(cfg).eval()
    perturb_vectors(m, 19)
    save_case("hf-dinov2-classifier", m, m.state_dict(), cfg.to_dict(), ["--mean", "0.5", "--std", "0.5"],
              1, (28, 28), [0.5], [0.5])
    # timm's vit_small_patch14_reg4_dinov2 (registers, no_embed_class, layer scale), made
    # small through model_args as a config.json would say; features out (num_classes 0).
    import timm
    torch.manual_seed(10)
    args = {"img_size": 28, "patch_size": 4, "embed_dim": 48, "depth": 2, "num_heads": 3, "in_chans": 1}
    m = timm.create_model("vit_small_patch14_reg4_dinov2", pretrained=False, num_classes=0, **args).eval()
    randomize(m, 10)
    with torch.no_grad():
        for b in m.blocks:
            b.ls1.gamma.copy_(0.3 + 0.4 * torch.rand(b.ls1.gamma.shape))
            b.ls2.gamma.copy_(0.3 + 0.4 * torch.rand(b.ls2.gamma.shape))
    mean, std = [0.1307], [0.3081]
    cfg = {"architecture": "vit_small_patch14_reg4_dinov2", "num_classes": 0, "model_args": args}
    save_case("timm-dinov2-reg4", m, m.state_dict(), cfg, ["--mean", "0.1307", "--std", "0.3081"], 1, (28, 28),
              mean, std, stages=True)
    final_tokens("timm-dinov2-reg4", m, 1, (28, 28), mean, std, lambda m, x: m.forward_features(x))
    # The same weights as the original DINOv2 hub checkpoint holds them (what timm's
    # checkpoint_filter_fn undoes): `register_tokens`, a `mask_token`, and a position row
    # for the class token (here a random one, taken back out of the class token).
    g = torch.Generator().manual_seed(11)
    state = m.state_dict()
    pos0 = 0.2 * torch.randn(1, 1, 48, generator=g)
    hub = {k: v for k, v in state.items() if k not in ("reg_token", "cls_token", "pos_embed")}
    hub["cls_token"] = state["cls_token"] - pos0
    hub["pos_embed"] = torch.cat([pos0, state["pos_embed"]], dim=1)
    hub["register_tokens"] = state["reg_token"]
    hub["mask_token"] = 0.2 * torch.randn(1, 48, generator=g)
    save_case("dinov2-hub-reg4", m, hub, None, ["--heads", "3", "--mean", "0.1307", "--std", "0.3081", "--image-size", "28"],
              1, (28, 28), mean, std)
    # At 36x36 the original model resamples its patch rows with interpolate_offset 0.1 and
    # no antialias (dinov2/models/vision_transformer.py, interpolate_pos_encoding).
    grid = state["pos_embed"].reshape(1, 7, 7, 48).permute(0, 3, 1, 2)
    sx = (9 + 0.1) / 7
    dino36 = F.interpolate(grid, scale_factor=(sx, sx), mode="bicubic", antialias=False)
    assert dino36.shape[-2:] == (9, 9)
    dino36 = dino36.permute(0, 2, 3, 1).reshape(1, 81, 48)
    m.set_input_size(img_size=(36, 36))  # timm's resample_abs_pos_embed, as dynamic_img_size does
    add_to_expected("timm-dinov2-reg4", at(36, m, 1, mean, std, pooled=lambda y: y))
    with torch.no_grad():
        m.pos_embed.copy_(dino36)
    add_to_expected("dinov2-hub-reg4", at(36, m, 1, mean, std, pooled=lambda y: y))


def clip_cases():
    """CLIP image towers as Hugging Face, OpenAI / open_clip and timm build them, small:
    pre-norm (ln_pre), quick_gelu, no patch bias, and the projection to the joint space.
    Outputs: image_embeds (Hugging Face), the visual tower's output (open_clip), timm's
    pooled features (forward_head(pre_logits=True)); each again at 36x36 (`input_at`,
    `logits_at`), the position embedding resampled as the library does."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    from open_clip.transformer import VisionTransformer as OpenCLIPVisionTransformer, QuickGELU
    from open_clip.model import resize_pos_embed
    import timm
    mean, std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    args = ["--mean", ",".join(map(str, mean)), "--std", ",".join(map(str, std))]

    def at(model, run=lambda m, x: m(x)):
        return outputs_at(36, model, 3, mean, std, run)

    torch.manual_seed(12)
    cfg = CLIPVisionConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                           image_size=28, patch_size=4, projection_dim=24, num_channels=3)
    m = CLIPVisionModelWithProjection(cfg).eval()
    perturb_vectors(m, 12)
    save_case("hf-clip-projection", m, m.state_dict(), cfg.to_dict(), args, 3, (28, 28), mean, std)
    add_to_expected("hf-clip-projection", at(m, lambda m, x: m(x, interpolate_pos_encoding=True).image_embeds))

    # OpenAI's names (the `visual.` part of ViT-B-32.pt, as open_clip loads it): in_proj,
    # c_fc / c_proj, ln_post, proj [width, output_dim]; quick_gelu as OpenAI trained it.
    torch.manual_seed(13)
    v = OpenCLIPVisionTransformer(image_size=28, patch_size=4, width=48, layers=2, heads=3, mlp_ratio=2.0,
                                  output_dim=24, act_layer=QuickGELU).eval()
    randomize(v, 13)
    state = {"visual." + k: t for k, t in v.state_dict().items()}
    save_case("openai-clip-visual", v, state, None, ["--heads", "3"] + args, 3, (28, 28), mean, std)
    v36 = OpenCLIPVisionTransformer(image_size=36, patch_size=4, width=48, layers=2, heads=3, mlp_ratio=2.0,
                                    output_dim=24, act_layer=QuickGELU).eval()
    resized = dict(state)
    resize_pos_embed(resized, type("CLIP", (), {"visual": v36})())  # open_clip's own, antialiased bicubic
    v36.load_state_dict({k[len("visual."):]: t for k, t in resized.items()})
    add_to_expected("openai-clip-visual", at(v36))

    # timm's vit_*_clip_quickgelu_* (pre_norm, no patch bias, nn.LayerNorm eps 1e-5), named
    # by its config.json; features out (the projection is timm's head, left out here).
    torch.manual_seed(14)
    margs = {"img_size": 28, "patch_size": 4, "embed_dim": 48, "depth": 2, "num_heads": 3}
    m = timm.create_model("vit_base_patch16_clip_quickgelu_224", pretrained=False, num_classes=0, **margs).eval()
    randomize(m, 14)
    save_case("timm-clip-quickgelu", m, m.state_dict(),
              {"architecture": "vit_base_patch16_clip_quickgelu_224", "num_classes": 0, "model_args": margs},
              args, 3, (28, 28), mean, std, stages=True)
    m.set_input_size(img_size=(36, 36))
    add_to_expected("timm-clip-quickgelu", at(m))


def save_zero_shot_case(name, m, cfg, out, labels, logit_bias):
    """A whole image-text model's weights, config and the labels' text embeddings as
    tools/clip_text_embeddings.py writes them; returns the case's folder."""
    import clip_text_embeddings
    d = os.path.join(FIX, "parity", name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(d, "model.safetensors"))
    json.dump(cfg.to_dict(), open(os.path.join(d, "config.json"), "w"), indent=1)
    open(os.path.join(d, "args.txt"), "w").write("\n")
    clip_text_embeddings.write_text_embeddings(os.path.join(d, "text.safetensors"), out.text_embeds, m.logit_scale.exp().item(),
                                               labels, ["{}"], "tools/make_fixtures.py (token ids from the labels)",
                                               logit_bias=logit_bias)
    return d


def clip_zero_shot_case():
    """A whole Hugging Face CLIPModel (text tower included), small, and ten labels: the
    text embeddings as tools/clip_text_embeddings.py writes them (text.safetensors), and
    the model's logits_per_image on the digits: what `convert --text-embeddings` must
    reproduce on the board. The prompts are token ids made from the labels (no tokenizer
    files here); the text tower, not the tokenizer, is what the head carries."""
    from transformers import CLIPConfig, CLIPModel
    torch.manual_seed(15)
    cfg = CLIPConfig(text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                      vocab_size=64, max_position_embeddings=16, bos_token_id=1, eos_token_id=63, pad_token_id=0),
                     vision_config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                                        image_size=28, patch_size=4),
                     projection_dim=24, logit_scale_init_value=3.0)
    m = CLIPModel(cfg).eval()
    perturb_vectors(m, 15)
    labels = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    ids = torch.tensor([[1] + [2 + (ord(ch) % 60) for ch in label] + [63] * (8 - len(label)) for label in labels])
    mean, std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    _, gray = samples()
    x = prepare(gray[:4], 3, (28, 28), mean, std)
    with torch.no_grad():
        out = m(input_ids=ids, pixel_values=x)
        # image_embeds before CLIPModel normalises them: what `embed` writes.
        embeds = m.visual_projection(m.vision_model(pixel_values=x).pooler_output)
    d = save_zero_shot_case("hf-clip-zeroshot", m, cfg, out, labels, logit_bias=None)
    save_file({"input": x.contiguous(), "logits": out.logits_per_image.contiguous().float(),
               "image_embeds": embeds.contiguous().float()}, os.path.join(d, "expected.safetensors"))
    print(f"hf-clip-zeroshot: top-1 {out.logits_per_image.argmax(dim=1).tolist()}")


def siglip_cases():
    """SigLIP image towers as Hugging Face and timm build them, small: no class token, a
    patch bias, tanh GELU (Hugging Face's gelu_pytorch_tanh; timm's nn.GELU), and the MAP
    head (a learnt probe attending over the tokens, LayerNorm, MLP) whose output each
    library calls the image embedding: pooler_output, timm's forward_head(pre_logits=True).
    Stage by stage for both; again at 36x36 (`input_at`, `logits_at`), the position
    embedding resampled as the library does (Hugging Face: bicubic, no antialias)."""
    from transformers import SiglipVisionConfig, SiglipVisionModel
    import timm
    mean, std = [0.5] * 3, [0.5] * 3
    args = ["--mean", "0.5", "--std", "0.5"]

    torch.manual_seed(16)
    cfg = SiglipVisionConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                             image_size=28, patch_size=4, num_channels=3)
    m = SiglipVisionModel(cfg).eval()
    perturb_vectors(m, 16)
    with torch.no_grad():  # the probe is a [1, 1, D] parameter: a trained one's spread
        m.head.probe.copy_(torch.randn(m.head.probe.shape))
    seen = {}
    m.embeddings.register_forward_hook(lambda mod, i, o: seen.__setitem__("patch_embedding", o))
    for b, layer in enumerate(m.encoder.layers):
        layer.register_forward_hook(lambda mod, i, o, b=b: seen.__setitem__(f"block.{b}", o[0] if isinstance(o, tuple) else o))
    # Under the names the hub's checkpoints hold (google/siglip-*: `vision_model.`, as in
    # a whole SiglipModel); transformers 5.x's own SiglipVisionModel drops the prefix.
    state = {"vision_model." + k: v for k, v in m.state_dict().items()}
    save_case("hf-siglip", m, state, cfg.to_dict(), args, 3, (28, 28), mean, std)
    final_tokens("hf-siglip", m, 3, (28, 28), mean, std, lambda m, x: m(x).last_hidden_state)
    add_to_expected("hf-siglip", {k: v.contiguous().float() for k, v in seen.items()})
    add_to_expected("hf-siglip", outputs_at(36, m, 3, mean, std,
                                            lambda m, x: m(x, interpolate_pos_encoding=True).pooler_output))

    # timm's vit_*_siglip_* (class_token False, global_pool 'map': attn_pool with latent,
    # q, kv, proj, norm, mlp), named by its config.json; features out (num_classes 0).
    torch.manual_seed(17)
    margs = {"img_size": 28, "patch_size": 4, "embed_dim": 48, "depth": 2, "num_heads": 3}
    m = timm.create_model("vit_base_patch16_siglip_224", pretrained=False, num_classes=0, **margs).eval()
    randomize(m, 17)
    with torch.no_grad():
        m.attn_pool.latent.copy_(torch.randn(m.attn_pool.latent.shape))
    save_case("timm-siglip", m, m.state_dict(),
              {"architecture": "vit_base_patch16_siglip_224", "num_classes": 0, "model_args": margs},
              args, 3, (28, 28), mean, std, stages=True)
    final_tokens("timm-siglip", m, 3, (28, 28), mean, std, lambda m, x: m.forward_features(x))
    m.set_input_size(img_size=(36, 36))
    add_to_expected("timm-siglip", outputs_at(36, m, 3, mean, std, lambda m, x: m(x)))


def siglip_zero_shot_case():
    """A whole Hugging Face SiglipModel (text tower included), small, and ten labels: the
    text embeddings as tools/clip_text_embeddings.py writes them (with SigLIP's logit_bias:
    a sigmoid per label), and the model's logits_per_image on the digits."""
    from transformers import SiglipConfig, SiglipModel
    # Seed 32: random towers mostly send every digit to one label; this one does not.
    torch.manual_seed(32)
    cfg = SiglipConfig(text_config=dict(hidden_size=48, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                        vocab_size=64, max_position_embeddings=16, pad_token_id=0, eos_token_id=63),
                       vision_config=dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                                          image_size=28, patch_size=4))
    m = SiglipModel(cfg).eval()
    perturb_vectors(m, 32)
    with torch.no_grad():
        m.logit_scale.fill_(2.0)
        m.logit_bias.fill_(-1.5)
        m.vision_model.head.probe.copy_(torch.randn(m.vision_model.head.probe.shape))
    labels = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    # Padded to the full length, as SigLIP's tokenizer is used (padding="max_length").
    ids = torch.tensor([[2 + (ord(ch) % 60) for ch in label] + [63] + [0] * (15 - len(label)) for label in labels])
    mean, std = [0.5] * 3, [0.5] * 3
    _, gray = samples()
    x = prepare(gray[:4], 3, (28, 28), mean, std)
    with torch.no_grad():
        out = m(input_ids=ids, pixel_values=x)
    d = save_zero_shot_case("hf-siglip-zeroshot", m, cfg, out, labels, logit_bias=m.logit_bias.item())
    save_file({"input": x.contiguous(), "logits": out.logits_per_image.contiguous().float(),
               "probabilities": torch.sigmoid(out.logits_per_image).contiguous().float()}, os.path.join(d, "expected.safetensors"))
    print(f"hf-siglip-zeroshot: top-1 {out.logits_per_image.argmax(dim=1).tolist()}")


def vit_pytorch_cases():
    from vit_pytorch import ViT
    torch.manual_seed(5)
    # Current layout, class token, heads x dim_head != dim.
    m = ViT(image_size=28, patch_size=4, num_classes=10, dim=48, depth=2, heads=3, mlp_dim=64, channels=1,
            dim_head=24).eval()
    save_case("vit-pytorch-cls", m, m.state_dict(), None,
              ["--heads", "3", "--mean", "0.1307", "--std", "0.3081"], 1, (28, 28), [0.1307], [0.3081])
    # Current layout, mean pooling (no class token: zero-row cls_token), 3 channels, 32x32.
    torch.manual_seed(6)
    m = ViT(image_size=32, patch_size=8, num_classes=7, dim=40, depth=2, heads=2, mlp_dim=80, channels=3,
            dim_head=16, pool="mean").eval()
    save_case("vit-pytorch-mean", m, m.state_dict(),
              {"image_size": 32, "patch_size": 8, "num_classes": 7, "dim": 40, "depth": 2, "heads": 2,
               "mlp_dim": 80, "channels": 3, "dim_head": 16, "pool": "mean"},
              ["--mean", "0.5", "--std", "0.5"], 3, (32, 32), [0.5] * 3, [0.5] * 3)
    # The older layout of the tutorials (PreNorm wrappers, class token always
    # present, 3-D pos_embedding, mlp_head = LayerNorm + Linear, mean over all tokens).
    import legacy_vit_pytorch
    torch.manual_seed(7)
    m = legacy_vit_pytorch.ViT(image_size=28, patch_size=7, num_classes=10, dim=32, depth=2, heads=4,
                               mlp_dim=64, channels=1, dim_head=12, pool="mean").eval()
    save_case("vit-pytorch-legacy-mean", m, m.state_dict(), None,
              ["--heads", "4", "--pool", "mean_all", "--mean", "0.1307", "--std", "0.3081"], 1, (28, 28),
              [0.1307], [0.3081])


def deepvit_cases():
    """vit-pytorch's DeepViT (re-attention), stage by stage: the tokens entering the
    transformer (after patches, class token and positions) and after each layer."""
    from vit_pytorch.deepvit import DeepViT
    torch.manual_seed(8)
    m = DeepViT(image_size=28, patch_size=7, num_classes=10, dim=32, depth=3, heads=4, mlp_dim=64, channels=1,
                dim_head=12).eval()
    # Trained magnitude, not init: LayerNorm and re-attention norms away from 1 and 0.
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "reattn_norm" in name or (p.dim() == 1 and "norm" in name):
                p.add_(0.3 * torch.randn_like(p))
    seen = {}
    m.transformer.register_forward_pre_hook(lambda mod, i: seen.__setitem__("patch_embedding", i[0].clone()))
    for b, (attn, ff) in enumerate(m.transformer.layers):
        ff.register_forward_hook(lambda mod, i, o, b=b: seen.__setitem__(f"block.{b}", i[0] + o))
    d = os.path.join(FIX, "parity", "vit-pytorch-deepvit")
    save_case("vit-pytorch-deepvit", m, m.state_dict(), None,
              ["--heads", "4", "--mean", "0.1307", "--std", "0.3081"], 1, (28, 28), [0.1307], [0.3081])
    from safetensors.torch import load_file
    out = load_file(os.path.join(d, "expected.safetensors"))
    out.update({k: v.contiguous().float() for k, v in seen.items()})
    save_file(out, os.path.join(d, "expected.safetensors"))


def t2t_cases():
    """vit-pytorch's T2TViT, stage by stage (the tokens entering the transformer, after each
    layer): soft splits (3, 2) three times on 28x28 digits (grids 14, 7 (odd), 4; stem
    widths 9 and 81, patches of 729: small enough to ship; vit-pytorch's default (7, 4),
    (3, 2), (3, 2) would make the fixture 4.5 MB), its config as keyword arguments."""
    from vit_pytorch.t2t import T2TViT
    torch.manual_seed(9)
    kw = dict(image_size=28, num_classes=10, dim=32, depth=2, heads=4, mlp_dim=64, channels=1, dim_head=8,
              t2t_layers=((3, 2), (3, 2), (3, 2)))
    m = T2TViT(**kw).eval()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() == 1 and "norm" in name or name.endswith("net.0.weight"):
                p.add_(0.3 * torch.randn_like(p))
    seen = {}
    m.transformer.register_forward_pre_hook(lambda mod, i: seen.__setitem__("patch_embedding", i[0].clone()))
    for b, (attn, ff) in enumerate(m.transformer.layers):
        ff.register_forward_hook(lambda mod, i, o, b=b: seen.__setitem__(f"block.{b}", i[0] + o))
    name = "vit-pytorch-t2t"
    save_case(name, m, m.state_dict(), kw, ["--mean", "0.1307", "--std", "0.3081"], 1, (28, 28), [0.1307], [0.3081])
    d = os.path.join(FIX, "parity", name)
    out = load_file(os.path.join(d, "expected.safetensors"))
    out.update({k: v.contiguous().float() for k, v in seen.items()})
    save_file(out, os.path.join(d, "expected.safetensors"))


def swin_cases():
    """timm's SwinTransformer, stage by stage (the tokens after the patch embedding, after
    each patch merging and each block, in the engine's layer order), on the digits resized
    to 32x32 (patch 2, window 4: grids 16, 8, 4, so shifted windows with their mask in the
    first two stages and one unshifted window in the last), 3 channels. The same weights
    again in Microsoft's original names (merging at the end of a stage, `head`)."""
    import re
    from timm.models.swin_transformer import SwinTransformer
    torch.manual_seed(10)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    m = SwinTransformer(img_size=32, patch_size=2, in_chans=3, num_classes=10, embed_dim=16, depths=(2, 2, 2),
                        num_heads=(2, 2, 4), window_size=4, mlp_ratio=2.0).eval()
    # Trained magnitude, not init: norms away from 1 and 0, position tables that matter.
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() == 1 and "norm" in name:
                p.add_(0.3 * torch.randn_like(p))
            if name.endswith("relative_position_bias_table"):
                p.copy_(torch.randn_like(p))
    seen, order = {}, []
    def keep(mod, i, o, key):
        seen[key] = o.reshape(o.shape[0], -1, o.shape[-1]).clone()
    m.patch_embed.register_forward_hook(lambda mod, i, o: keep(mod, i, o, "patch_embedding"))
    for s, stage in enumerate(m.layers):
        if s > 0:
            order.append(stage.downsample)
        order += list(stage.blocks)
    for n, mod in enumerate(order):
        mod.register_forward_hook(lambda mod, i, o, n=n: keep(mod, i, o, f"block.{n}"))
    cfg = {"architecture": "swin_tiny_patch2_window4_32", "num_classes": 10,
           "model_args": {"patch_size": 2, "window_size": 4, "embed_dim": 16, "depths": [2, 2, 2], "num_heads": [2, 2, 4]},
           "pretrained_cfg": {"input_size": [3, 32, 32], "mean": mean, "std": std, "interpolation": "bilinear",
                              "crop_pct": 1.0, "crop_mode": "squash"}}
    for name, state in [("timm-swin", m.state_dict()),
                        ("swin-original-names", {re.sub(r"layers\.(\d+)\.downsample", lambda g: f"layers.{int(g.group(1)) - 1}.downsample",
                                                        k).replace("head.fc.", "head."): v for k, v in m.state_dict().items()})]:
        save_case(name, m, state, cfg if name == "timm-swin" else None,
                  ["--resampler", "pytorch"] + ([] if name == "timm-swin" else ["--image-size", "32"]), 3, (32, 32), mean, std)
        if name == "timm-swin":  # the stages once: the other names load the same weights
            d = os.path.join(FIX, "parity", name)
            out = load_file(os.path.join(d, "expected.safetensors"))
            out.update({k: v.contiguous().float() for k, v in seen.items()})
            save_file(out, os.path.join(d, "expected.safetensors"))


def pvt_case(name, seed, architecture, args, extra=None):
    """One PyramidVisionTransformerV2 fixture, stage by stage (the tokens after the patch
    embedding, after each downsampling and each block, in the engine's layer order), on the
    digits resized to 36x36; `extra(m, out)` may add outputs."""
    from timm.models.pvt_v2 import PyramidVisionTransformerV2
    torch.manual_seed(seed)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    m = PyramidVisionTransformerV2(in_chans=3, num_classes=10, **args).eval()
    # Trained magnitude, not init: norms away from 1 and 0.
    with torch.no_grad():
        for n, p in m.named_parameters():
            if p.dim() == 1 and "norm" in n:
                p.add_(0.3 * torch.randn_like(p))
    seen, order = {}, []
    def keep(o, key):
        seen[key] = o.reshape(o.shape[0], -1, o.shape[-1]).clone()
    m.patch_embed.register_forward_hook(lambda mod, i, o: keep(o, "patch_embedding"))
    for stage in m.stages:
        if stage.downsample is not None:
            order.append(stage.downsample)
        order += list(stage.blocks)
    for n, mod in enumerate(order):
        mod.register_forward_hook(lambda mod, i, o, n=n: keep(o, f"block.{n}"))
    cfg = {"architecture": architecture, "num_classes": 10,
           "model_args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in args.items()},
           "pretrained_cfg": {"input_size": [3, 36, 36], "mean": mean, "std": std, "interpolation": "bilinear",
                              "crop_pct": 1.0, "crop_mode": "squash"}}
    save_case(name, m, m.state_dict(), cfg, ["--resampler", "pytorch"], 3, (36, 36), mean, std)
    d = os.path.join(FIX, "parity", name)
    out = load_file(os.path.join(d, "expected.safetensors"))
    out.update({k: v.contiguous().float() for k, v in seen.items()})
    if extra:
        extra(m, out, mean, std)
    save_file(out, os.path.join(d, "expected.safetensors"))


def pvt_cases():
    """timm's PyramidVisionTransformerV2: odd grids (9, 5, 3, 2) through the 7x7/4 and 3x3/2
    padded convolutions, spatial reductions 4 (9x9 -> 2x2 keys: PyTorch's floor) and 2, none
    in the last two stages; heads 1, 2, 5, 8 (timm's), widths 16, 32, 40, 64; and again at the
    digits' own 28x28 (grids 7, 4, 2, 1: PVT has no positions to resample). Then the linear
    variant (timm linear=True, as pvt_v2_b2_li): keys average-pooled to 7x7 (uneven bins on
    9, overlapping ones below 7), a 1x1 reduction, LayerNorm and GELU; a ReLU in the MLP."""
    def at28(m, out, mean, std):
        _, gray = samples()
        with torch.no_grad():
            out["logits_28"] = m(prepare(gray[:4], 3, (28, 28), mean, std)).contiguous().float()
    pvt_case("timm-pvt-v2", 11, "pvt_v2_tiny_36", dict(depths=(1, 2, 1, 1), embed_dims=(16, 32, 40, 64), num_heads=(1, 2, 5, 8),
                                                    sr_ratios=(4, 2, 1, 1), mlp_ratios=(8, 8, 4, 4)), at28)
    pvt_case("timm-pvt-v2-li", 12, "pvt_v2_tiny_li_36", dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 40, 64), num_heads=(1, 2, 5, 8),
                                                          mlp_ratios=(4, 4, 4, 4), linear=True))

if __name__ == "__main__":
    os.makedirs(FIX, exist_ok=True)
    which = sys.argv[1:] or ["mnist", "timm", "mlp", "hybrid", "hf", "vit-pytorch", "deepvit", "t2t", "swin", "pvt", "dinov2", "clip", "siglip"]
    if "mnist" in which:
        mnist_golden()
    if "timm" in which:
        timm_cases()
    if "mlp" in which:
        mlp_cases()
        mnist_mixer_golden()
    if "hybrid" in which:
        hybrid_cases()
    if "hf" in which:
        hf_cases()
    if "vit-pytorch" in which:
        vit_pytorch_cases()
    if "deepvit" in which:
        deepvit_cases()
    if "t2t" in which:
        t2t_cases()
    if "swin" in which:
        swin_cases()
    if "pvt" in which:
        pvt_cases()
    if "dinov2" in which:
        dinov2_cases()
    if "clip" in which:
        clip_cases()
        clip_zero_shot_case()
    if "siglip" in which:
        siglip_cases()
        siglip_zero_shot_case()

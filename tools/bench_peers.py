#!/usr/bin/env python3
"""vit-edge against the engines its users would otherwise pick, in one run, on one core.

Engines: ONNX Runtime and PyTorch in this process; LiteRT (XNNPACK), ExecuTorch (XNNPACK
delegate) and OpenVINO each in its own venv (tools/peers_env.sh makes them under
.venv-peers/; an engine whose venv is missing is left out and said so), run through
tools/peer_worker.py, which loads the engine's file and times its run call in-process.

For each model (the shipped MNIST ViT; ViT-Ti/16 and ViT-S/16 shapes with random
weights from tools/make_vit_shapes.py; the other families at their timm shapes with
random weights: tiny-r = vit_tiny_r_s16_p8_224, r26 = vit_small_r26_s32_224,
mixer-b = mixer_b16_224, resmlp-12 = resmlp_12_224, swin-t = swin_tiny_patch4_window7_224, pvt-b0 = pvt_v2_b0; mnist-mixer = the shipped MNIST
MLP-Mixer), the same safetensors feed every engine:
vit-edge converts (and quantizes) them, PyTorch loads them into timm, and ONNX is
exported from that PyTorch model. Engines are interleaved round by round; each
round times `--runs` single-image inferences; the table reports medians and ratios
to vit-edge. Everything is pinned to one core (sched_setaffinity / taskset).

    tools/peers_env.sh                     # once: the LiteRT, ExecuTorch, OpenVINO venvs
    python3 tools/bench_peers.py --models mnist ti --rounds 3 [--peers ort torch litert ...]

The camera side (decoding and preprocessing beside Pillow + timm and OpenCV) is
tools/bench_image.py: its peers are image libraries, not inference engines.

Every engine gets the same input tensor. Each int8 variant's logits are compared with the
same engine's fp32 logits on it (relative L2 error), so a broken int8 export shows.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_compat  # noqa: F401
import timm
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release", "vit-edge")
CORE = 0
VENVS = os.path.join(ROOT, ".venv-peers")
WORKER = os.path.join(ROOT, "tools", "peer_worker.py")
EXTERNAL = {"litert": "LiteRT", "executorch": "ExecuTorch", "openvino": "OpenVINO"}


# The other families at the shapes the issue names: timm constructors, random weights.
FAMILIES = {"tiny-r": ("vit_tiny_r_s16_p8_224", 3), "r26": ("vit_small_r26_s32_224", 6),
            "mixer-b": ("mixer_b16_224", None), "resmlp-12": ("resmlp_12_224", None),
            "swin-t": ("swin_tiny_patch4_window7_224", None), "pvt-b0": ("pvt_v2_b0", None)}


def timm_model(name, shapes):
    if name in FAMILIES:
        arch, heads = FAMILIES[name]
        st = os.path.join(shapes, f"{name}.safetensors")
        cfg = os.path.join(shapes, f"{name}.json")
        torch.manual_seed(0)
        m = timm.create_model(arch, pretrained=False)
        if not os.path.exists(st):
            from safetensors.torch import save_file
            os.makedirs(shapes, exist_ok=True)
            save_file({k: v.contiguous() for k, v in m.state_dict().items()}, st)
            pc = {k: v for k, v in m.pretrained_cfg.items() if k in ("input_size", "mean", "std", "interpolation", "crop_pct", "crop_mode")}
            with open(cfg, "w") as f:
                json.dump({"architecture": arch, "pretrained_cfg": pc, "model_args": {"num_heads": heads} if heads else {}}, f)
        m.load_state_dict(load_file(st))
        return m.eval(), st, cfg, (1, 3, 224, 224)
    if name == "mnist-mixer":
        from timm.models.mlp_mixer import MlpMixer
        c = json.load(open(os.path.join(ROOT, "models", "mnist-mixer", "config.json")))
        a = dict(c["model_args"])
        a["mlp_ratio"] = tuple(a["mlp_ratio"])
        m = MlpMixer(num_classes=10, **a)
        st = os.path.join(ROOT, "models", "mnist-mixer", "model.safetensors")
        m.load_state_dict(load_file(st))
        return m.eval(), st, os.path.join(ROOT, "models", "mnist-mixer", "config.json"), (1, 1, 28, 28)
    if name == "mnist":
        m = timm.models.vision_transformer.VisionTransformer(
            img_size=28, patch_size=4, in_chans=1, num_classes=10, embed_dim=64, depth=6, num_heads=4, mlp_ratio=2.0)
        st = os.path.join(ROOT, "models", "mnist-vit", "model.safetensors")
        cfg = os.path.join(ROOT, "models", "mnist-vit", "config.json")
        shape = (1, 1, 28, 28)
    else:
        dim, heads = {"ti": (192, 3), "s": (384, 6), "b": (768, 12)}[name]
        m = timm.models.vision_transformer.VisionTransformer(img_size=224, patch_size=16, num_classes=1000,
                                                             embed_dim=dim, depth=12, num_heads=heads)
        st = os.path.join(shapes, f"vit-{name}.safetensors")
        cfg = os.path.join(shapes, f"vit-{name}.json")
        if not os.path.exists(st):
            subprocess.check_call([sys.executable, os.path.join(ROOT, "tools", "make_vit_shapes.py"), "--out", shapes, "--only", name])
        shape = (1, 3, 224, 224)
    m.load_state_dict(load_file(st))
    return m.eval(), st, cfg, shape


def time_calls(fn, runs):
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def vit_edge_ms(path, runs, kernels="auto"):
    r = subprocess.run(["taskset", "-c", str(CORE), BIN, "bench", path, "--threads", "1", "--iterations", str(runs),
                        "--warmup", "3", "--kernels", kernels, "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["latency_ms"]["p50"]


def venv_python(engine):
    p = os.path.join(VENVS, engine, "bin", "python")
    return p if os.path.exists(p) else None


def worker(engine, *args):
    r = subprocess.run([venv_python(engine), WORKER, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{engine} {' '.join(args[:2])}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
    return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="*", default=["mnist", "ti", "s"],
                    help="mnist, ti, s, b, mnist-mixer, " + ", ".join(FAMILIES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=0, help="inferences per round (default: by model size)")
    ap.add_argument("--shapes", default="/tmp/vit-shapes")
    ap.add_argument("--peers", nargs="*", default=["ort", "torch", "litert", "executorch", "openvino"],
                    help="ort, torch, litert, executorch, openvino (the last three need tools/peers_env.sh)")
    ap.add_argument("--also-kernels", nargs="*", default=[],
                    help="vit-edge kernel sets timed beside auto, e.g. avx2 on an AVX-512 machine (adds a 7-bit-weight row)")
    args = ap.parse_args()
    external = []
    for e in EXTERNAL:
        if e in args.peers:
            if venv_python(e):
                external.append(e)
            else:
                print(f"{EXTERNAL[e]}: no venv at .venv-peers/{e} (run tools/peers_env.sh): left out", file=sys.stderr)
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)

    class Calibration(CalibrationDataReader):
        """Random inputs: static QDQ needs activation ranges; only speed is compared."""
        def __init__(self, shape, n=8):
            g = torch.Generator().manual_seed(0)
            self.items = iter([{"x": torch.randn(*shape, generator=g).numpy()} for _ in range(n)])

        def get_next(self):
            return next(self.items, None)

    os.sched_setaffinity(0, {CORE})
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="bench-peers-")
    rows = []
    meds = {}
    checks = []
    for name in args.models:
        model, st, cfg, shape = timm_model(name, args.shapes)
        runs = args.runs or (500 if name.startswith("mnist") else 20)
        vq = os.path.join(work, f"{name}.vitq")
        vq8 = os.path.join(work, f"{name}-int8.vitq")
        subprocess.check_call([BIN, "convert", st, "--config", cfg, "-o", vq], stdout=subprocess.DEVNULL)
        subprocess.check_call([BIN, "quantize", vq, "-o", vq8], stdout=subprocess.DEVNULL)
        vq7 = os.path.join(work, f"{name}-w7.vitq")
        if args.also_kernels:
            subprocess.check_call([BIN, "quantize", vq, "-o", vq7, "--weight-bits", "7"], stdout=subprocess.DEVNULL)
        x = torch.randn(*shape)
        onnx_path = os.path.join(work, f"{name}.onnx")
        torch.onnx.export(model, (x,), onnx_path, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
        onnx8 = os.path.join(work, f"{name}-int8.onnx")
        quantize_dynamic(onnx_path, onnx8, weight_type=QuantType.QInt8)
        onnx_qdq = os.path.join(work, f"{name}-qdq.onnx")
        quantize_static(onnx_path, onnx_qdq, Calibration(shape), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        s32 = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        s8 = ort.InferenceSession(onnx8, so, providers=["CPUExecutionProvider"])
        sqdq = ort.InferenceSession(onnx_qdq, so, providers=["CPUExecutionProvider"])
        xn = x.numpy()
        q8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        np.save(os.path.join(work, f"{name}.input.npy"), xn)
        logits = {}

        def in_process(fn, key):
            def timed():
                with torch.no_grad():
                    logits[key] = np.asarray(fn()).reshape(-1)
                    return time_calls(fn, runs)
            return timed

        engines = {
            "vit-edge fp32": lambda: vit_edge_ms(vq, runs),
            "vit-edge int8": lambda: vit_edge_ms(vq8, runs),
        }
        for kset in args.also_kernels:
            engines.update({
                f"vit-edge fp32 --kernels {kset}": lambda kset=kset: vit_edge_ms(vq, runs, kset),
                f"vit-edge int8 --kernels {kset}": lambda kset=kset: vit_edge_ms(vq8, runs, kset),
                f"vit-edge int8 7-bit weights --kernels {kset}": lambda kset=kset: vit_edge_ms(vq7, runs, kset),
            })
        if "ort" in args.peers:
            engines.update({
                "ONNX Runtime fp32": in_process(lambda: s32.run(None, {"x": xn})[0], "ONNX Runtime fp32"),
                "ONNX Runtime int8 (dynamic)": in_process(lambda: s8.run(None, {"x": xn})[0], "ONNX Runtime int8 (dynamic)"),
                "ONNX Runtime int8 (static QDQ)": in_process(lambda: sqdq.run(None, {"x": xn})[0], "ONNX Runtime int8 (static QDQ)"),
            })
        if "torch" in args.peers:
            engines.update({
                "PyTorch fp32": in_process(lambda: model(x), "PyTorch fp32"),
                "PyTorch int8 (dynamic)": in_process(lambda: q8(x), "PyTorch int8 (dynamic)"),
            })
        for e in external:
            try:
                worker(e, "prepare", e, name, work, args.shapes)
            except RuntimeError as err:
                print(f"{EXTERNAL[e]} on {name}: export failed ({err}): left out", file=sys.stderr)
                continue
            for variant in json.loads(worker(e, "variants", e)):
                key = f"{EXTERNAL[e]} {variant}"

                def timed(e=e, variant=variant, key=key):
                    o = json.loads(worker(e, "time", e, variant, work, name, str(runs)))
                    logits[key] = np.asarray(o["logits"])
                    return o["ms"]
                engines[key] = timed
        results = {k: [] for k in engines}
        failed = set()
        for _ in range(args.rounds):
            for k, f in engines.items():
                if k in failed:
                    continue
                try:
                    results[k].append(f())
                except RuntimeError as err:
                    print(f"{k} on {name}: {err}: left out", file=sys.stderr)
                    failed.add(k)
        for k in failed:
            del results[k]
        for k, v in logits.items():
            if "int8" in k:
                ref = logits.get(k.split(" int8")[0] + " fp32")
                if ref is not None:
                    checks.append((name, k, float(np.linalg.norm(v - ref) / np.linalg.norm(ref))))
        med = {k: statistics.median(v) for k, v in results.items() if v}
        meds[name] = med
        for k, v in med.items():
            base = med["vit-edge int8" if "int8" in k else "vit-edge fp32"]
            rows.append((name, k, v, min(results[k]), max(results[k]), v / base))
    print(f"one core (cpu {CORE}), batch 1, median over {args.rounds} interleaved rounds")
    print("| model | engine | median ms | range | × vit-edge (same precision) |")
    print("|---|---|---|---|---|")
    for name, k, v, lo, hi, ratio in rows:
        print(f"| {name} | {k} | {v:.3f} | {lo:.3f}–{hi:.3f} | {ratio:.2f} |")
    print()
    print("int8 against the same engine's fp32 on the same input (relative L2 error of the logits):")
    for name, k, err in checks:
        print(f"  {name:8s} {k:34s} {err:.4f}")
    # Issue 12's targets, as vit-edge latency / peer latency (lower is better).
    print()
    print("| target | measured (vit-edge / peer) | goal | met |")
    print("|---|---|---|---|")

    def target(label, ours, peers, goal, key=None):
        peers = [p for p in peers if p is not None]
        if not peers:
            return
        r = ours / min(peers)
        print(f"| {label} | {r:.2f} | ≤ {goal} | {'yes' if r <= goal else 'no'} |")

    def fastest(m, pred):
        return [v for k, v in m.items() if not k.startswith("vit-edge") and pred(k)] or [None]

    if "mnist" in meds:
        m = meds["mnist"]
        target("MNIST fp32 vs ONNX Runtime fp32", m["vit-edge fp32"], [m.get("ONNX Runtime fp32")], 0.5)
        target("MNIST int8 vs ONNX Runtime int8 (faster of dynamic, QDQ)", m["vit-edge int8"],
               [m.get("ONNX Runtime int8 (dynamic)"), m.get("ONNX Runtime int8 (static QDQ)")], 0.5)
    for name, label in (("ti", "ViT-Ti/16"), ("s", "ViT-S/16")):
        if name in meds:
            m = meds[name]
            target(f"{label} fp32 vs the fastest fp32 peer", m["vit-edge fp32"], fastest(m, lambda k: k.endswith("fp32")), 0.9)
            target(f"{label} int8 vs the fastest dynamic-int8 peer", m["vit-edge int8"],
                   fastest(m, lambda k: "int8 (dynamic)" in k), 0.7)
            target(f"{label} int8 vs the fastest int8 peer (any mode)", m["vit-edge int8"],
                   fastest(m, lambda k: "int8" in k), 0.7)
            target(f"{label} vit-edge int8 vs vit-edge fp32", m["vit-edge int8"], [m["vit-edge fp32"]], 0.5)
            for kset in args.also_kernels:
                for bits in ("int8", "int8 7-bit weights"):
                    target(f"{label} vit-edge {bits} vs fp32, --kernels {kset}", m[f"vit-edge {bits} --kernels {kset}"],
                           [m[f"vit-edge fp32 --kernels {kset}"]], 0.5)


if __name__ == "__main__":
    main()

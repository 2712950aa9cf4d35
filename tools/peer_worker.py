#!/usr/bin/env python3
"""One peer engine of tools/bench_peers.py, in the Python environment that engine needs.

LiteRT (XNNPACK, models converted by litert-torch), ExecuTorch (XNNPACK delegate) and
OpenVINO each want their own packages (litert-torch alone brings jax); tools/peers_env.sh
makes one venv per engine under .venv-peers/ (sharing the system's torch and timm), and
bench_peers.py runs this script with that venv's python:

    peer_worker.py prepare ENGINE MODEL WORKDIR SHAPES   # export fp32 and int8 files
    peer_worker.py time ENGINE VARIANT WORKDIR MODEL RUNS  # one round: JSON {ms, logits}

ENGINE: litert | executorch | openvino. VARIANT: fp32, or an int8 mode the engine has
(`variants ENGINE` lists them). Timing is in-process around the engine's run call,
single-threaded, on the core the parent pinned; the input is WORKDIR/MODEL.input.npy,
the same tensor every engine gets.
"""
import json, os, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np

# Each engine's variants: label in the table, file suffix.
VARIANTS = {
    "litert": {"fp32": "fp32.tflite", "int8 (dynamic)": "dyn8.tflite", "int8 (static)": "st8.tflite"},
    "executorch": {"fp32": "fp32.pte", "int8 (dynamic)": "dyn8.pte", "int8 (static)": "st8.pte"},
    "openvino": {"fp32": "fp32.xml", "int8 (static)": "st8.xml"},
}


def calibration(shape, n=8):
    """Random inputs: static int8 needs activation ranges; only speed is compared."""
    import torch
    g = torch.Generator().manual_seed(0)
    return [torch.randn(*shape, generator=g) for _ in range(n)]


def load_model(name, shapes):
    import torch_compat  # noqa: F401
    from bench_peers import timm_model
    model, _, _, shape = timm_model(name, shapes)
    # Attention as explicit matmul + softmax: the fused scaled_dot_product_attention op
    # leaves masking ops outside XNNPACK in ExecuTorch (~3x slower) and LiteRT alike.
    for m in model.modules():
        if hasattr(m, "fused_attn"):
            m.fused_attn = False
    return model, shape


def prepare_litert(model, shape, base):
    import torch
    import litert_torch
    from ai_edge_quantizer import quantizer, recipe
    x = torch.zeros(*shape)
    litert_torch.convert(model, (x,)).export(base + "fp32.tflite")
    q = quantizer.Quantizer(base + "fp32.tflite")
    q.load_quantization_recipe(recipe.dynamic_wi8_afp32())
    q.quantize().export_model(base + "dyn8.tflite", overwrite=True)
    q = quantizer.Quantizer(base + "fp32.tflite")
    q.load_quantization_recipe(recipe.static_wi8_ai8())
    from ai_edge_litert.interpreter import Interpreter
    sig = Interpreter(base + "fp32.tflite").get_signature_list()
    key = next(iter(sig))
    arg = sig[key]["inputs"][0]
    data = {key: [{arg: c.numpy()} for c in calibration(shape)]}
    q.quantize(q.calibrate(data)).export_model(base + "st8.tflite", overwrite=True)


def prepare_executorch(model, shape, base):
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (XNNPACKQuantizer,
                                                                          get_symmetric_quantization_config)
    from executorch.exir import to_edge_transform_and_lower
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    x = (torch.zeros(*shape),)

    def lower(m, path):
        ep = torch.export.export(m, x)
        prog = to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()]).to_executorch()
        with open(path, "wb") as f:
            f.write(prog.buffer)

    lower(model, base + "fp32.pte")
    for dynamic, suffix in ((True, "dyn8.pte"), (False, "st8.pte")):
        quant = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=dynamic))
        m = torch.export.export(model, x).module()
        m = prepare_pt2e(m, quant)
        for c in (calibration(shape) if not dynamic else [x[0]]):
            m(c)
        lower(convert_pt2e(m), base + suffix)


def prepare_openvino(model, shape, base):
    import torch
    import openvino as ov
    import nncf
    x = torch.zeros(*shape)
    om = ov.convert_model(model, example_input=x)
    ov.save_model(om, base + "fp32.xml", compress_to_fp16=False)
    data = nncf.Dataset([c.numpy() for c in calibration(shape)])
    q = nncf.quantize(om, data, model_type=nncf.ModelType.TRANSFORMER, subset_size=8)
    ov.save_model(q, base + "st8.xml", compress_to_fp16=False)


def runner(engine, path, x):
    """A no-argument function running one inference on x, returning its logits."""
    if engine == "litert":
        from ai_edge_litert.interpreter import Interpreter
        it = Interpreter(path, num_threads=1)
        run = it.get_signature_runner()
        name = next(iter(it.get_signature_list()[next(iter(it.get_signature_list()))]["inputs"]))
        inp, out = run.get_input_details()[name], next(iter(run.get_output_details().values()))
        if inp["dtype"] == np.int8:  # the fully static model takes and gives int8 tensors
            (si, zi), (so, zo) = inp["quantization"], out["quantization"]
            xq = np.clip(np.rint(x / si) + zi, -128, 127).astype(np.int8)
            return lambda: (next(iter(run(**{name: xq}).values())).astype(np.float32) - zo) * so
        return lambda: next(iter(run(**{name: x}).values()))
    if engine == "executorch":
        import torch
        import executorch.extension.pybindings.portable_lib as pl
        pl._unsafe_reset_threadpool(1)
        from executorch.runtime import Runtime
        method = Runtime.get().load_program(path).load_method("forward")
        t = torch.from_numpy(x)
        return lambda: method.execute([t])[0].numpy()
    if engine == "openvino":
        import openvino as ov
        core = ov.Core()
        # f32 everywhere: on CPUs with AVX-512 BF16 or AMX the plugin would run bf16 by default.
        cm = core.compile_model(path, "CPU", {"INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1,
                                              "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
        req = cm.create_infer_request()
        return lambda: req.infer({0: x})[0]
    raise SystemExit(f"unknown engine {engine}")


def main():
    cmd = sys.argv[1]
    if cmd == "variants":
        print(json.dumps(VARIANTS[sys.argv[2]]))
    elif cmd == "prepare":
        engine, name, work, shapes = sys.argv[2:6]
        model, shape = load_model(name, shapes)
        import torch
        with torch.no_grad():
            {"litert": prepare_litert, "executorch": prepare_executorch,
             "openvino": prepare_openvino}[engine](model, shape, os.path.join(work, f"{name}.{engine}."))
    elif cmd == "time":
        engine, variant, work, name, runs = sys.argv[2:7]
        path = os.path.join(work, f"{name}.{engine}.{VARIANTS[engine][variant]}")
        fn = runner(engine, path, np.load(os.path.join(work, f"{name}.input.npy")))
        out = np.asarray(fn()).reshape(-1)
        ms = []
        for _ in range(int(runs)):
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"ms": statistics.median(ms), "logits": out.astype(float).tolist()}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

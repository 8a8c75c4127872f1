#!/usr/bin/env python3
"""Times the PyTorch reference GPTQ (shared/reference/gptq_ref.py's `gptq`, float64, on the GPU) on the linears that
`orleansquant bench` times, so GPTQ too has a peer measured in the same run.

usage: gptq_torch_time.py GPTQ_REF.py OUT.json [--like OURS.json | --shapes o:4096x4096,down:4096x14336 --tokens 16384] [--seed 0]
Each shape is op:ROWSxCOLUMNS ([out, in]); --like takes the shapes and token count from `orleansquant bench --out`'s JSON. H = 2/n·XᵀX of n random rows is made on the GPU and not timed; GPTQ's cost
does not depend on n. One warm-up on a small linear, then one timed run per shape between cuda.synchronize() calls.
"""
import argparse, importlib.util, json, time, torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref"); ap.add_argument("out")
    ap.add_argument("--shapes", default="o:4096x4096,down:4096x14336"); ap.add_argument("--tokens", type=int, default=16384)
    ap.add_argument("--seed", type=int, default=0); ap.add_argument("--like")
    a = ap.parse_args()
    if a.like:
        ours = json.load(open(a.like))["gptq"]
        a.shapes = ",".join(f"{r['op']}:{r['rows']}x{r['columns']}" for r in ours); a.tokens = ours[0]["calibration_tokens"]
    spec = importlib.util.spec_from_file_location("gptq_ref", a.ref); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
    dev = torch.device("cuda"); torch.manual_seed(a.seed)
    ref.gptq(torch.randn(8, 256, device=dev), torch.eye(256, device=dev))  # CUDA context, cuSOLVER, kernels
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "gptq": []}
    for item in a.shapes.split(","):
        op, dims = item.split(":"); rows, cols = (int(v) for v in dims.lower().split("x"))
        x = torch.randn(a.tokens, cols, device=dev)
        h = (2.0 / a.tokens) * (x.t() @ x); del x
        w = torch.randn(rows, cols, device=dev) / cols ** 0.5
        torch.cuda.synchronize(); t0 = time.perf_counter()
        ref.gptq(w, h)
        torch.cuda.synchronize(); ms = (time.perf_counter() - t0) * 1e3
        res["gptq"].append({"op": op, "rows": rows, "columns": cols, "calibration_tokens": a.tokens, "ms": ms})
        print(f"reference GPTQ {op} {rows}x{cols}: {ms / 1e3:.2f} s")
    json.dump(res, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Puts `orleansquant bench` beside bench_torch.py, run on the same card in the same job, as markdown for docs/BENCHMARKS.md.

usage: bench_compare.py TORCH.json OURS.json [--gptq GPTQ_TORCH.json] [--card NAME] [--date YYYY-MM-DD] [--command TEXT]
TORCH.json is bench_torch.py's output, OURS.json `orleansquant bench --out`'s, GPTQ_TORCH.json gptq_torch_time.py's.
Speedup = torch ms / ours ms: above 1 means OrleansQuant is faster. Rows are joined on (tokens, op) for the GEMMs,
tokens for prefill and batch for decode; a side that did not measure a row shows '—'. The goals are issue 8's.
"""
import argparse, datetime, json, sys


def ms(v):
    if v is None:
        return "—"
    return f"{v:.4f}" if v < 1 else f"{v:.3f}" if v < 100 else f"{v:.1f}"


def ratio(torch_ms, ours_ms):
    return None if torch_ms is None or ours_ms is None or ours_ms <= 0 else torch_ms / ours_ms


def x(r):
    return "—" if r is None else f"{r:.2f}×"


def mark(ok):
    return "" if ok is None else " ✓" if ok else " ✗"


def table(headers, rows, left=1):
    """A markdown table; the first `left` columns (the row's keys) align left, the figures right."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" if i < left else "---:" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("torch"); ap.add_argument("ours"); ap.add_argument("--gptq")
    ap.add_argument("--card"); ap.add_argument("--date", default=datetime.date.today().isoformat()); ap.add_argument("--command")
    a = ap.parse_args()
    t = json.load(open(a.torch)); o = json.load(open(a.ours))
    card = a.card or t.get("device") or o.get("device")
    goals = []  # (goal, measured, ok)
    lines = [f"### {card}, {a.date}", ""]
    if a.command:
        lines.append(f"- Command: `{a.command}`")
    lines += [
        f"- Peer: PyTorch {t.get('torch', '?')} (`bench_torch.py`: bf16 `x @ w`, int8 `torch._int_mm`, HF `LlamaDecoderLayer` bf16 sdpa; "
        "medians of `triton.testing.do_bench`)",
        f"- Ours: {o.get('command', 'orleansquant bench')} — orleansquant {o.get('orleansquant', '?')}, {o.get('dotnet', '?')}, "
        f"on {o.get('device_id', o.get('device'))}; mean of {o.get('iterations')} calls after {o.get('warmup')} warm-up, "
        f"`Synchronize` before the clock stops; float path in {o.get('fp_type', 'float32')}",
        "- Speedup = torch ms / ours ms (above 1: ours faster)",
        "",
    ]

    torch_gemm = {(r["tokens"], r["op"]): r for r in t.get("gemm", [])}
    rows = []
    for r in o.get("gemm", []):
        p = torch_gemm.get((r["tokens"], r["op"]), {})
        si, sl, sf = ratio(p.get("int8_ms"), r["int8_ms"]), ratio(p.get("bf16_ms"), r["w8a8_linear_ms"]), ratio(p.get("bf16_ms"), r["fp_ms"])
        big = r["tokens"] >= 512
        ok_i = (si >= 1.0) if big and si is not None else None
        ok_l = (sl > 1.0) if big and sl is not None else None
        if ok_i is not None:
            goals.append((f"INT8 GEMM ≥ 1.0× torch._int_mm, {r['op']} at {r['tokens']} tokens", x(si), ok_i))
        if ok_l is not None:
            goals.append((f"W8A8 linear faster than torch bf16, {r['op']} at {r['tokens']} tokens", x(sl), ok_l))
        rows.append([r["tokens"], r["op"], f"{r['k']} × {r['n']}", ms(p.get("bf16_ms")), ms(p.get("int8_ms")), ms(r["int8_ms"]), x(si) + mark(ok_i),
                     ms(r["w8a8_linear_ms"]), x(sl) + mark(ok_l), ms(r["fp_ms"]), x(sf)])
    if rows:
        lines += ["#### GEMM (ms)", "",
                  "Ours int8 is `MatMulInt8` of pre-quantized inputs with its dequantizing epilogue (torch's stops at int32); "
                  "ours W8A8 linear adds the per-token quantization of the activations; ours bf16 is `MatMul` with bf16 weights, bf16 x and bf16 output, the own full-precision path on a GPU; both of ours take and give activations in the type a served model holds them (bf16 on a GPU).", "",
                  table(["tokens", "op", "k × n", "torch bf16", "torch int8", "ours int8", "int8 speedup", "ours W8A8 linear",
                         "vs torch bf16", "ours bf16", "vs torch bf16"], rows, left=3), ""]

    torch_prefill = {r["tokens"]: r["ms"] for r in t.get("layer_prefill", [])}
    rows = []
    for r in o.get("layer_prefill", []):
        p = torch_prefill.get(r["tokens"])
        s, sf = ratio(p, r["w8a8_ms"]), ratio(p, r["fp_ms"])
        ok = (s >= 1.3) if r["tokens"] == 2048 and s is not None else None
        if ok is not None:
            goals.append(("decoder layer prefill 2048 tokens ≥ 1.3× HF bf16", x(s), ok))
        rows.append([r["tokens"], ms(p), ms(r["w8a8_ms"]), x(s) + mark(ok), ms(r["fp_ms"]), x(sf)])
    if rows:
        lines += ["#### One decoder layer, prefill of one sequence (ms)", "",
                  table(["tokens", "HF bf16", "ours W8A8", "speedup", "ours bf16", "speedup"], rows), ""]

    torch_decode = {r["batch"]: r for r in t.get("layer_decode", [])}
    layer = o.get("layer") or {}
    floor = layer.get("decode_floor_ms")
    rows = []
    for r in o.get("layer_decode", []):
        p = torch_decode.get(r["batch"], {})
        same_context = p.get("context") == r["context"]
        s = ratio(p.get("ms"), r["w8a8_ms"]) if same_context else None
        own = r["fp_ms"] / r["w8a8_ms"] if r["w8a8_ms"] > 0 else None
        over_floor = r["w8a8_ms"] / floor if floor else None
        ok = (s >= 1.5) if r["batch"] == 64 and r["context"] == 1024 and s is not None else None
        ok_own = (own > 1.0) if r["batch"] in (1, 8, 64) and own is not None else None
        ok_floor = (over_floor <= 4.0) if r["batch"] == 1 and over_floor is not None else None
        if ok is not None:
            goals.append((f"decode 64 sequences at 1024 context ≥ 1.5× HF bf16", x(s), ok))
        if ok_own is not None:
            goals.append((f"own W8A8 layer faster than own BF16 layer, decode batch {r['batch']}", x(own), ok_own))
        if ok_floor is not None:
            goals.append(("decode 1 sequence ≤ 4× the memory floor", f"{over_floor:.2f}× floor", ok_floor))
        rows.append([r["batch"], r["context"], ms(p.get("ms") if same_context else None), ms(r["w8a8_ms"]), x(s) + mark(ok),
                     ms(r["fp_ms"]), x(own) + mark(ok_own), "—" if over_floor is None else f"{over_floor:.2f}{mark(ok_floor)}"])
    if rows:
        copy = o.get("copy") or {}
        lines += ["#### One decoder layer, decode: one token for each of B sequences (ms)", ""]
        if floor:
            lines += [f"Floor: {layer['int8_weight_bytes'] / 1e6:.3f} MB of W8A8 weights / {copy.get('gb_per_s', 0) / 1e3:.2f} TB/s "
                      f"measured device copy (read + write) = {floor * 1e3:.1f} µs.", ""]
        lines += [table(["batch", "context", "HF bf16", "ours W8A8", "speedup", "ours bf16", "own W8A8 speedup over own bf16", "ours W8A8 / floor"], rows, left=2), ""]

    peer = {(r["rows"], r["columns"]): r["ms"] for r in json.load(open(a.gptq)).get("gptq", [])} if a.gptq else {}
    rows = []
    for r in o.get("gptq", []):
        p = peer.get((r["rows"], r["columns"]))
        s = ratio(p, r["ms"])
        ok = (s >= 1.0) if (r["rows"], r["columns"]) == (4096, 14336) and s is not None else None
        if ok is not None:
            goals.append(("GPTQ of a 4096×14336 linear no slower than the PyTorch reference", x(s), ok))
        rows.append([r["op"], f"{r['rows']} × {r['columns']}", "—" if p is None else f"{p / 1e3:.2f}", f"{r['ms'] / 1e3:.2f}", x(s) + mark(ok)])
    if rows:
        lines += ["#### GPTQ of one linear (s)", "",
                  "Peer: `gptq_ref.py`'s `gptq` (float64) on the GPU, timed by deploy/gptq_torch_time.py; ours: `Gptq.Quantize` on "
                  f"the benchmarked device (its quantization kernels; float64). Both from a Hessian of {o['gptq'][0]['calibration_tokens']} random rows; GPTQ's cost does not depend on that count.", "",
                  table(["op", "rows × columns", "torch reference", "ours", "speedup"], rows, left=2), ""]

    if goals:
        met = sum(1 for _, _, ok in goals if ok)
        lines += [f"#### Goals: {met} of {len(goals)} met", ""]
        lines += [f"- {'✓' if ok else '✗'} {goal}: {measured}" for goal, measured, ok in goals]
        lines.append("")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

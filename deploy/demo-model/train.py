#!/usr/bin/env python3
"""Trains the demo model that speaks: a small Llama (Touvron et al. 2023) on English text that Debian packages ship.

usage: train.py CORPUS_DIR OUT_DIR [--seconds 150] [--seed 0]
  CORPUS_DIR  train.txt, calibration.txt, heldout.txt from build_corpus.py
  OUT_DIR     the Hugging Face checkpoint: config.json, model.safetensors (bf16), tokenizer.json,
              tokenizer_config.json (with a Llama-3-style chat template), generation_config.json; and train.log

Tokenizer: byte-level BPE (GPT-2's pre-tokenizer and byte alphabet, as Llama 3's tokenizer.json) with a 4096-token
vocabulary trained on train.txt; <|begin_of_text|> (added first by the post-processor, as Llama 3's), <|end_of_text|>
and Llama 3's chat header tokens. Model: 6 layers, hidden 256, 4 query heads and 2 KV heads of 64, SwiGLU 768,
untied lm_head, RoPE theta 10000, context 512: 6.8 M parameters, 13.6 MB in bf16. Training: AdamW (lr 3e-3, betas
0.9/0.95, weight decay 0.1), 200 warm-up steps then cosine to 10 %, batches of 64 × 512 tokens drawn at random from
the training split, bf16 autocast, for a fixed wall-clock budget; the held-out loss and perplexity are logged as it
goes, and the weights of the best held-out loss are the ones saved. Everything is seeded; run on a GPU.
"""
import argparse, json, math, time
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM

SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def train_tokenizer(corpus: Path, vocab: int) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=SPECIAL, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train([str(corpus / "train.txt")], trainer)
    bos = tokenizer.token_to_id(SPECIAL[0])
    tokenizer.post_processor = processors.TemplateProcessing(single=f"{SPECIAL[0]} $A", pair=f"{SPECIAL[0]} $A $B",
                                                              special_tokens=[(SPECIAL[0], bos)])
    return tokenizer


def encode(tokenizer: Tokenizer, path: Path) -> torch.Tensor:
    text = path.read_text(encoding="utf-8")
    # Documents are separated by blank lines; encode in pieces so the tokenizer's memory stays small.
    pieces = [text[i:i + 1_000_000] for i in range(0, len(text), 1_000_000)]
    ids = []
    for encoding in tokenizer.encode_batch(pieces, add_special_tokens=False):
        ids.extend(encoding.ids)
    return torch.tensor(ids, dtype=torch.int64)


def batches(tokens: torch.Tensor, batch: int, length: int, generator: torch.Generator):
    while True:
        starts = torch.randint(0, len(tokens) - length - 1, (batch,), generator=generator)
        rows = torch.stack([tokens[s:s + length + 1] for s in starts.tolist()])
        yield rows[:, :-1], rows[:, 1:]


@torch.no_grad()
def heldout_loss(model, tokens: torch.Tensor, length: int, device) -> float:
    model.eval()
    usable = (len(tokens) - 1) // length * length
    x = tokens[:usable].view(-1, length)[:64].to(device)
    y = tokens[1:usable + 1].view(-1, length)[:64].to(device)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model(x).logits.float()
    model.train()
    return torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), y.reshape(-1)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus"); ap.add_argument("out")
    ap.add_argument("--seconds", type=float, default=150); ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    corpus, out = Path(a.corpus), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(a.seed)
    log = open(out / "train.log", "w")

    def say(line):
        print(line, flush=True)
        log.write(line + "\n"); log.flush()

    started = time.time()
    tokenizer = train_tokenizer(corpus, 4096)
    train_ids, heldout_ids = encode(tokenizer, corpus / "train.txt"), encode(tokenizer, corpus / "heldout.txt")
    say(f"tokenizer: {tokenizer.get_vocab_size()} tokens in {time.time() - started:.0f} s; "
        f"train {len(train_ids):,} tokens, held-out {len(heldout_ids):,}")

    bos, eos = tokenizer.token_to_id(SPECIAL[0]), tokenizer.token_to_id(SPECIAL[1])
    config = LlamaConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=256, intermediate_size=768,
                         num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
                         max_position_embeddings=512, rope_theta=10000.0, rms_norm_eps=1e-5,
                         tie_word_embeddings=False, bos_token_id=bos, eos_token_id=eos)
    device = torch.device("cuda")
    model = LlamaForCausalLM(config).to(device)
    say(f"model: {sum(p.numel() for p in model.parameters()):,} parameters; {config.num_hidden_layers} layers, "
        f"hidden {config.hidden_size}, heads {config.num_attention_heads}/{config.num_key_value_heads}")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                                  lr=3e-3, betas=(0.9, 0.95), fused=True)
    length, batch, warmup = 512, 64, 200
    generator = torch.Generator().manual_seed(a.seed)
    stream = batches(train_ids, batch, length, generator)
    training_started, step, seen = time.time(), 0, 0
    best = (float("inf"), 0, None)
    # The schedule is laid over the wall-clock budget: progress = elapsed / budget.
    while (elapsed := time.time() - training_started) < a.seconds:
        progress = elapsed / a.seconds
        lr = 3e-3 * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = next(stream)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(x).logits
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        seen += x.numel()
        if step % 200 == 0:
            held = heldout_loss(model, heldout_ids, length, device)
            say(f"step {step:6d}  {elapsed:6.1f} s  {seen / 1e6:7.1f} M tokens  lr {lr:.2e}  train loss {loss.item():.3f}  "
                f"held-out loss {held:.3f} (perplexity {math.exp(held):.1f})")
            # The corpus is small enough to overfit in the budget: keep the weights of the best held-out loss.
            if held < best[0]:
                best = (held, step, {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})

    held = heldout_loss(model, heldout_ids, length, device)
    if held < best[0]:
        best = (held, step, None)
    else:
        model.load_state_dict(best[2])
    say(f"done: {step} steps, {seen / 1e6:.1f} M tokens in {time.time() - training_started:.0f} s; kept step {best[1]}: "
        f"held-out loss {best[0]:.3f}, perplexity {math.exp(best[0]):.2f}")

    model = model.to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": SPECIAL[0], "eos_token": SPECIAL[1], "model_max_length": 512,
        "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE}, indent=2))

    model.eval()
    for prompt in ["The file system", "To install the package, run", "This manual page documents"]:
        ids = torch.tensor([tokenizer.encode(prompt).ids], device=device)
        with torch.no_grad():
            generated = model.generate(ids, max_new_tokens=40, do_sample=False, pad_token_id=eos)
        say(f"greedy: {tokenizer.decode(generated[0].tolist(), skip_special_tokens=True)!r}")
    say(f"golden ids: {','.join(map(str, tokenizer.encode('The quick brown fox jumps over the lazy dog').ids))}")


if __name__ == "__main__":
    main()

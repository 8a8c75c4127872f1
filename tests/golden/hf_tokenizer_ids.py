#!/usr/bin/env python3
"""Token ids Hugging Face's tokenizer gives for tokenizer files the project writes (run on the GPU machine).

usage: hf_tokenizer_ids.py TOKENIZER_DIR OUT.json
Loads TOKENIZER_DIR with transformers.AutoTokenizer and writes {"texts": [...], "ids": [[...], ...]}; the tests
assert that ModelTokenizer gives the same ids and decodes them back to the same text.
"""
import json, sys
from transformers import AutoTokenizer

TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "In 1905, Albert Einstein published 4 papers; e=mc^2!",
    "naïve café 東京",
    "  leading spaces and trailing  ",
    "line one\nline two\r\nthree",
    "It's we'll they're I'd",
    "emoji 🙂 and accents é",
]


def main():
    tok = AutoTokenizer.from_pretrained(sys.argv[1])
    ids = [tok(t, add_special_tokens=True)["input_ids"] for t in TEXTS]
    decoded = [tok.decode(i, skip_special_tokens=True) for i in ids]
    json.dump({"texts": TEXTS, "ids": ids, "decoded": decoded}, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
    print(sys.argv[1], [len(i) for i in ids])


if __name__ == "__main__":
    main()

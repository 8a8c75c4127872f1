#!/usr/bin/env python3
"""English text that Debian packages ship, as the demo model's training, calibration and held-out corpora.

Sources (sorted, so the same packages give the same corpus): GNU info manuals (/usr/share/info), man pages of
sections 5 and 7 and the first 1500 of section 1 rendered to plain text (`man -l`, 80 columns), and the text files
under /usr/share/doc (README, *.txt, *.md, *.rst; gzipped or not). Each source document is cleaned (control
characters, backspace overstrikes, runs of blank lines) and assigned whole to one split by a hash of its path:
5 % calibration, 5 % held-out, the rest training — so no document's text is in two splits.

    python3 deploy/demo-model/build_corpus.py OUT_DIR
writes OUT_DIR/train.txt, calibration.txt, heldout.txt and sources.tsv (path, split, characters).
"""
import gzip, hashlib, os, re, subprocess, sys
from pathlib import Path

def read(path: Path) -> str:
    data = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")

def render_man(path: Path) -> str:
    # GROFF_NO_SGR: plain overstrikes, not ANSI colour/underline sequences, which col -b cannot take out.
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", GROFF_NO_SGR="1")
    try:
        page = subprocess.run(["man", "-l", str(path)], capture_output=True, env=env, timeout=20).stdout
        return subprocess.run(["col", "-bx"], input=page, capture_output=True, timeout=20).stdout.decode("utf-8", errors="replace")
    except subprocess.TimeoutExpired:
        return ""

def clean(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)               # ANSI SGR sequences, should a renderer still emit them
    text = re.sub(r".\x08", "", text)                       # overstrikes (bold/underline in rendered pages)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)     # other control characters (info's \x1f node marks)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n\n"

def mostly_english(text: str) -> bool:
    letters = sum(c.isascii() and c.isalpha() for c in text)
    return len(text) > 400 and letters / len(text) > 0.6

def sources():
    yield from ((p, read) for p in sorted(Path("/usr/share/info").glob("*.gz")))
    for section, limit in (("man5", None), ("man7", None), ("man1", 1500)):
        pages = sorted(Path("/usr/share/man", section).glob("*.gz"))
        yield from ((p, render_man) for p in pages[:limit])
    docs = sorted(p for p in Path("/usr/share/doc").rglob("*") if p.is_file() and not p.is_symlink()
                  and re.search(r"(^README|\.txt|\.md|\.rst)(\.gz)?$", p.name) and p.stat().st_size < 2_000_000)
    yield from ((p, read) for p in docs)

def split_of(path: Path) -> str:
    bucket = int(hashlib.sha256(str(path).encode()).hexdigest(), 16) % 100
    return "calibration" if bucket < 5 else "heldout" if bucket < 10 else "train"

def main(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    files = {name: open(out / f"{name}.txt", "w", encoding="utf-8") for name in ("train", "calibration", "heldout")}
    with open(out / "sources.tsv", "w", encoding="utf-8") as listing:
        for path, reader in sources():
            text = clean(reader(path))
            if not mostly_english(text):
                continue
            split = split_of(path)
            files[split].write(text)
            listing.write(f"{path}\t{split}\t{len(text)}\n")
    for f in files.values():
        f.close()
    for name in files:
        print(f"{name}: {(out / f'{name}.txt').stat().st_size / 1e6:.1f} MB")

if __name__ == "__main__":
    main(Path(sys.argv[1]))

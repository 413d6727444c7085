#!/usr/bin/env python3
"""Byte-level BPE parity fixtures for TinyTune's Tokenizers tests.

Trains a small byte-level BPE with Hugging Face `tokenizers` on deterministic text, saves it in both
layouts (tokenizer.json; vocab.json + merges.txt) and records the ids HF produces for varied strings.
The Swift tests load these files and must reproduce the ids exactly. CI never runs this script.

    python3 scripts/tokenizers/make_fixtures.py Tests/TokenizersTests/Fixtures
"""
import json
import random
import sys
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/TokenizersTests/Fixtures")
out.mkdir(parents=True, exist_ok=True)

rng = random.Random(7)
words = ["the", "cat", "sat", "on", "mat", "don't", "we'll", "it's", "Zürich", "naïve", "東京", "42", "3.14",
         "hello", "world", "token", "izer", "merge", "byte", "pair", "encoding", "😀", "ok!", "(yes)", "e-mail"]
lines = []
for _ in range(400):
    lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + rng.choice([".", "!", "?", "", "  "]))
text = "\n".join(lines)

tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
tokenizer.train_from_iterator([text], trainer=trainer)
tokenizer.save(str(out / "tokenizer.json"))
tokenizer.model.save(str(out))  # vocab.json + merges.txt

samples = ["Hello world", "the cat sat on the mat.", "don't stop, we'll see it's fine", "  leading spaces",
           "trailing spaces   ", "tabs\tand\nnewlines\n\n", "Zürich naïve café", "東京タワー", "emoji 😀😀 ok!",
           "numbers 1234567 and 3.14", "e-mail (yes) [no] {maybe}", "<|endoftext|>after special", "before<|endoftext|>",
           "'s 't 're 've 'm 'll 'd", "UPPER lower MiXeD", "a  b   c    d", "x" * 40, "", "mergemerge bytepair",
           "unknownwordsarehere"]
expected = [{"text": s, "ids": tokenizer.encode(s).ids} for s in samples]
(out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
print(f"wrote {out}: vocab {tokenizer.get_vocab_size()}, {len(samples)} samples")

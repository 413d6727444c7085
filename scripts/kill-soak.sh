#!/usr/bin/env bash
# kill-soak.sh — the long version of Tests/TrainingTests/KillTests: many more SIGKILLs of kill-helper
# (Tests/KillHelper) while it replaces a directory and while it trains with a checkpoint every step.
# Checks after every kill that the directory is one whole generation, and that the killed-and-resumed
# training ends with losses bitwise equal to an uninterrupted run (AdamW and 8-bit AdamW).
#
#   scripts/kill-soak.sh [KILLS]      (default 300; needs only Swift, no Python)
set -euo pipefail
KILLS=${1:-300}
swift build --product kill-helper >/dev/null
HELPER="$(swift build --show-bin-path)/kill-helper"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Waits for $1; anything but success or our SIGKILL (status 137) is a failure of the helper.
reap() { local status=0; wait "$1" 2>/dev/null || status=$?; [ "$status" = 0 ] || [ "$status" = 137 ] || { echo "kill-helper failed ($status)"; exit 1; }; }

# 1. Directory replacement.
last=0
for i in $(seq 1 "$KILLS"); do
  "$HELPER" directory "$WORK/out" & pid=$!
  while [ ! -d "$WORK/out" ]; do sleep 0.01; done
  sleep "0.0$((RANDOM % 90 + 10))"
  kill -9 "$pid"; reap "$pid"
  [ "$(ls "$WORK/out" | tr '\n' ' ')" = "a b c " ] || { echo "kill $i: files $(ls -a "$WORK/out")"; exit 1; }
  gens=$(for f in a b c; do head -n1 "$WORK/out/$f"; done | sort -u)
  sizes=$(for f in a b c; do wc -c < "$WORK/out/$f"; done | sort -u)
  [ "$(echo "$gens" | wc -l)" = 1 ] && [ "$(echo "$sizes" | wc -l)" = 1 ] || { echo "kill $i: mixed generations $gens"; exit 1; }
  [ "$gens" -ge "$last" ] || { echo "kill $i: generation went back from $last to $gens"; exit 1; }
  last=$gens
done
echo "directory: $KILLS kills, reached generation $last, always whole"

# 2. Training with a checkpoint every step, killed and resumed until done.
for optimizer in adamw adamw8bit; do
  rm -rf "$WORK/ref" "$WORK/run"; mkdir -p "$WORK/ref" "$WORK/run"
  "$HELPER" train "$WORK/ref" "$optimizer" 60
  kills=0
  while [ ! -f "$WORK/run/losses.txt" ]; do
    "$HELPER" train "$WORK/run" "$optimizer" 60 & pid=$!
    # Long enough for a restart (load, resume) plus a few steps, so that every run makes progress.
    sleep "0.$((RANDOM % 400 + 100))"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    reap "$pid"
  done
  cmp -s "$WORK/ref/losses.txt" "$WORK/run/losses.txt" || { echo "$optimizer: losses differ after $kills kills"; exit 1; }
  echo "$optimizer: 60 steps, $kills kills, losses bitwise equal to the uninterrupted run"
done

#!/usr/bin/env bash
# README screenshots of Neovim with the plugin: a real Neovim in tmux, captured with
# `tmux capture-pane -e` and rendered to PNG by Chromium (ansi-to-png.mjs).
#   scripts/screenshots/neovim.sh [BINARY] [OUT_DIR]   (default build/amct-lsp docs/images)
# NVIM selects the Neovim (default: tests/neovim/nvim-debian-testing.sh, a current one).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
binary=$(realpath "${1:-$repo/build/amct-lsp}")
out=$(realpath -m "${2:-$repo/docs/images}")
nvim=${NVIM:-$repo/tests/neovim/nvim-debian-testing.sh}
mkdir -p "$out"
work=$(mktemp -d)
session=amct-shot-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT
sed 's/dst_type: INT4/dst_type: INT9/' "$repo/examples/quant.cfg" > "$work/quant.cfg"

tmux new-session -d -s "$session" -x 118 -y 32 -c "$work" \
  "AMCT_REPO='$repo' AMCT_LSP='$binary' '$nvim' -u '$repo/scripts/screenshots/nvim-session.lua' -i NONE -n quant.cfg"
# Waits until the pane shows `text` (no fixed sleeps), up to 30 s.
wait_for() {
  for _ in $(seq 300); do
    tmux capture-pane -p -t "$session" | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "neovim.sh: the pane never showed '$1'" >&2
  tmux capture-pane -p -t "$session" >&2
  return 1
}
capture() { tmux capture-pane -p -e -t "$session" > "$work/$1.ans"; node "$repo/scripts/screenshots/ansi-to-png.mjs" "$work/$1.ans" "$out/$1.png"; }

wait_for "retrain_data_quant_config"
# Diagnostics (virtual text) and code lenses, on the lines of the broken override.
tmux send-keys -t "$session" ':30' Enter
wait_for "is not a value of enum"
wait_for "data: ULQ INT8"
capture neovim-diagnostics
# Hover: K on channel_wise (line 19).
tmux send-keys -t "$session" ':19' Enter 'w' 'K'
wait_for "optional bool channel_wise"
capture neovim-hover
tmux send-keys -t "$session" Escape ':q!' Enter
echo "neovim.sh: wrote $out/neovim-diagnostics.png $out/neovim-hover.png"

#!/usr/bin/env bash
# Runs the Neovim end-to-end test: real Neovim, headless, as the LSP client.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
binary=${1:-build/amct-lsp}
if ! command -v nvim >/dev/null; then
  echo "nvim not installed (scripts/install-deps.sh installs Debian's neovim)" >&2
  exit 1
fi
timeout 120 nvim --headless -u NONE -i NONE -n \
  -c "luafile tests/neovim/lsp_client_e2e.lua" "$(realpath "$binary")" "$(pwd)" 2>&1

#!/usr/bin/env bash
# Runs the Neovim end-to-end tests: real Neovim, headless, as the LSP client:
#   lsp_client_e2e.lua  Neovim's bare LSP client (no plugin)
#   plugin_e2e.lua      the neovim/ plugin of this repository
# NVIM=path/to/nvim selects another Neovim (default: nvim on PATH, Debian's 0.7).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
binary=${1:-build/amct-lsp}
nvim=${NVIM:-nvim}
if ! command -v "$nvim" >/dev/null; then
  echo "nvim not installed (scripts/install-deps.sh installs Debian's neovim)" >&2
  exit 1
fi
status=0
for test in lsp_client_e2e plugin_e2e; do
  echo "-- tests/neovim/$test.lua"
  timeout 180 "$nvim" --headless -u NONE -i NONE -n \
    -c "luafile tests/neovim/$test.lua" "$(realpath "$binary")" "$(pwd)" 2>&1 || status=1
done
exit $status

#!/usr/bin/env bash
# Installs what amct-lsp's build and tests need, only what is missing:
# Debian 12 packages, then (unless AMCT_EDITOR_TESTS=0) the editors' test tools:
# the VS Code extension's npm packages (npm ci, from package-lock.json) and
# code-server (scripts/install-code-server.sh, cached under ~/.cache/amct-lsp-ci).
# Node.js 20 with npm is expected on PATH for the editors' part.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
editors=${AMCT_EDITOR_TESTS:-1}
packages=(
  build-essential cmake pkg-config ccache
  libprotobuf-dev libprotoc-dev protobuf-compiler
  libtree-sitter-dev nlohmann-json3-dev libasio-dev catch2
  python3-protobuf python3-numpy   # peers for the benchmarks (AMCT's own path)
  neovim                           # the real-editor end-to-end test
  clang libclang-rt-14-dev         # libFuzzer targets (scripts/fuzz.sh, CI smoke runs)
)
if [[ $editors != 0 ]]; then
  packages+=(
    chromium                       # drives VS Code (code-server) in the end-to-end test
    ripgrep libkrb5-dev python3 g++ make   # code-server's native modules and search
  )
fi
packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

[[ $editors != 0 ]] || exit 0
command -v npm >/dev/null || { echo "install-deps: npm (Node.js 20) is needed for the editors' tests (or AMCT_EDITOR_TESTS=0)" >&2; exit 2; }
# npm ci only when package-lock.json changed since the last install.
lock_hash=$(sha256sum vscode-extension/package-lock.json | cut -d' ' -f1)
stamp=vscode-extension/node_modules/.amct-lock-sha256
if [[ ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
  echo "install-deps: npm ci in vscode-extension" >&2
  (cd vscode-extension && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_hash" > "$stamp"
fi
scripts/install-code-server.sh >/dev/null

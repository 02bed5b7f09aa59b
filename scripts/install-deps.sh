#!/usr/bin/env bash
# Installs the Debian 12 packages amct-lsp needs, only those missing.
# Nothing else is downloaded: every dependency is a Debian package.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libprotobuf-dev libprotoc-dev protobuf-compiler
  libtree-sitter-dev nlohmann-json3-dev libasio-dev catch2
  python3-protobuf python3-numpy   # peers for the benchmarks (AMCT's own path)
  neovim                           # the real-editor end-to-end test
  clang libclang-rt-14-dev         # libFuzzer targets (scripts/fuzz.sh, CI smoke runs)
)
packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

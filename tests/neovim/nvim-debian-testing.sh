#!/usr/bin/env bash
# Runs a current Neovim (Debian testing's package, 0.12 at the time of writing) on
# Debian 12, to test the plugin on the 0.8+/0.11 APIs too: Debian 12 ships 0.7.
# The packages and the glibc they need are downloaded from Debian's archive into a
# private cache (no install; the system is untouched) and Neovim runs through that
# glibc's own loader, like ../shared/tools/tree-sitter does.
#
# Usage: tests/neovim/nvim-debian-testing.sh ARGS...      (any nvim arguments)
#   NVIM=tests/neovim/nvim-debian-testing.sh tests/neovim/run.sh build/amct-lsp
# Cache: ${XDG_CACHE_HOME:-~/.cache}/amct-lsp-ci/nvim-SUITE. First run: ~20 s.
set -euo pipefail
SUITE=${NVIM_DEBIAN_SUITE:-forky}
CACHE=${AMCT_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/amct-lsp-ci}/nvim-$SUITE
RT=$CACHE/root
if [[ ! -x $RT/usr/bin/nvim ]]; then
  rm -rf "$CACHE" && mkdir -p "$CACHE/lists/partial" "$CACHE/debs" "$CACHE/apt-cache/archives/partial" "$RT"
  uri=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | awk '$1 == "URIs:" || $1 == "deb" {print $2}' | grep -v security | head -1 || true)
  [[ -n $uri ]] || { echo "nvim-debian-testing: no Debian mirror in apt's sources" >&2; exit 1; }
  echo "deb $uri $SUITE main" > "$CACHE/sources.list"
  o=(-o Dir::Etc::SourceList="$CACHE/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$CACHE/lists" -o Dir::Cache="$CACHE/apt-cache" -o APT::Sandbox::User=root)
  apt-get "${o[@]}" update -qq >&2
  (cd "$CACHE/debs" && apt-get "${o[@]}" download neovim neovim-runtime libc6 libgcc-s1 libluajit-5.1-2 \
     libluajit-5.1-common libtree-sitter0.26 libunibilium4 libutf8proc3 libuv1t64 lua-lpeg lua-luv >&2)
  for f in "$CACHE"/debs/*.deb; do dpkg -x "$f" "$RT"; done
fi
export VIMRUNTIME=$RT/usr/share/nvim/runtime
export LUA_CPATH="$RT/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;"
# The TUI re-runs Neovim's own executable (`nvim --embed`), which through the loader
# would be the loader: with patchelf (Debian package), a copy that names the private
# loader and libraries itself works for the TUI too. Headless use needs neither.
if [[ ! -x $RT/usr/bin/nvim-private ]] && command -v patchelf >/dev/null; then
  cp "$RT/usr/bin/nvim" "$RT/usr/bin/nvim-private.tmp"
  patchelf --set-interpreter "$RT/usr/lib64/ld-linux-x86-64.so.2" --force-rpath \
    --set-rpath "$RT/usr/lib/x86_64-linux-gnu" "$RT/usr/bin/nvim-private.tmp"
  mv "$RT/usr/bin/nvim-private.tmp" "$RT/usr/bin/nvim-private"
fi
if [[ -x $RT/usr/bin/nvim-private ]]; then exec "$RT/usr/bin/nvim-private" "$@"; fi
exec "$RT/usr/lib64/ld-linux-x86-64.so.2" --library-path "$RT/usr/lib/x86_64-linux-gnu" "$RT/usr/bin/nvim" "$@"

#!/usr/bin/env bash
# Fails when grammar/grammar.js and the committed grammar/src/ disagree.
# Regenerates into a temporary copy with the tree-sitter CLI; when the CLI
# cannot run on this machine, prints a notice and skips (exit 0).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The CLI lives in ../shared/tools next to the main checkout; a git worktree
# one level deeper (e.g. /work/wt/NAME) finds it at ../../shared/tools.
ts=${TREE_SITTER:-}
if [[ -z $ts ]]; then
  for candidate in "$root/../shared/tools/tree-sitter" "$root/../../shared/tools/tree-sitter"; do
    if [[ -x $candidate ]]; then ts=$candidate; break; fi
  done
  ts=${ts:-$root/../shared/tools/tree-sitter}
fi
if ! "$ts" --version >/dev/null 2>&1; then
  echo "NOTICE: tree-sitter CLI not available ($ts); skipping the generated-parser check"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/grammar/grammar.js" "$root/grammar/tree-sitter.json" "$tmp/"
mkdir -p "$tmp/src" && cp "$root/grammar/src/scanner.c" "$tmp/src/"
(cd "$tmp" && "$ts" generate --abi 14 >/dev/null 2>"$tmp/err") || {
  echo "tree-sitter generate failed:"; cat "$tmp/err"; exit 1; }
status=0
for f in parser.c grammar.json node-types.json tree_sitter/parser.h tree_sitter/alloc.h tree_sitter/array.h; do
  if ! cmp -s "$tmp/src/$f" "$root/grammar/src/$f"; then
    echo "grammar/src/$f is out of date with grammar/grammar.js: run (cd grammar && ../../shared/tools/tree-sitter generate --abi 14)"
    status=1
  fi
done
[[ $status == 0 ]] && echo "grammar/src is in sync with grammar.js"
exit $status

#!/usr/bin/env bash
# Installs code-server (VS Code 1.99 served to a browser) for the VS Code
# end-to-end test, without the internet downloads its npm install normally makes.
# Cached under ${XDG_CACHE_HOME:-~/.cache}/amct-lsp-ci/code-server-VERSION and
# re-used when present. Prints the path of code-server's entry.js on stdout.
#
# Usage: scripts/install-code-server.sh        (about 10 minutes the first time)
# Needs the Debian packages libkrb5-dev ripgrep python3 g++ make (scripts/install-deps.sh).
set -euo pipefail
VERSION=${CODE_SERVER_VERSION:-4.99.4}   # the last code-server line that runs on Node 20
CACHE=${AMCT_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/amct-lsp-ci}
DIR=$CACHE/code-server-$VERSION
PKG=$DIR/package
ENTRY=$PKG/out/node/entry.js
if [[ -f $DIR/.installed ]]; then echo "$ENTRY"; exit 0; fi

for tool in rg g++ make python3; do
  command -v "$tool" >/dev/null || { echo "install-code-server: $tool is missing (run scripts/install-deps.sh)" >&2; exit 2; }
done

rm -rf "$DIR" && mkdir -p "$DIR"
(cd "$DIR" && npm pack --silent "code-server@$VERSION" >/dev/null && tar xzf "code-server-$VERSION.tgz" && rm "code-server-$VERSION.tgz")
export npm_config_unsafe_perm=true npm_config_yes=true
# node-gyp would download Node's headers; Debian's/NodeSource's node ships them in /usr.
[[ -d /usr/include/node ]] && export npm_config_nodedir=${npm_config_nodedir:-/usr}
npmq() { npm --no-audit --no-fund --loglevel=error "$@" >&2; }

# Root package: install without scripts (its postinstall re-runs everything below
# and downloads ripgrep), then build the one native module it needs.
(cd "$PKG" && npmq install --omit=dev --ignore-scripts && npmq rebuild argon2)

# VS Code itself: native modules are built from source; @vscode/ripgrep's
# postinstall downloads a binary, so Debian's ripgrep takes its place.
(cd "$PKG/lib/vscode" && npmq install --omit=dev --ignore-scripts &&
  npmq rebuild $(node -e 'const p=require("./package.json");
    console.log(Object.keys(p.dependencies).filter(d => d !== "@vscode/ripgrep").join(" "))') &&
  mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg &&
  ln -sfn node_modules node_modules.asar)
(cd "$PKG/lib/vscode/extensions" && npmq install --omit=dev --ignore-scripts)

node "$ENTRY" --version >&2
touch "$DIR/.installed"
echo "$ENTRY"

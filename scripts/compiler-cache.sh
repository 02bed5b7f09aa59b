# Sourced by the build scripts: use ccache when it is installed
# (scripts/install-deps.sh installs it). Paths are made relative to the
# checkout and the build directory is left out of the hash, so a fresh clone
# (what CI builds) reuses the objects of earlier clones on the same machine.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
fi

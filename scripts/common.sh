# Shared settings for tailor's scripts (sourced).
TAILOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${JOBS:-$(nproc)}"
CMAKE_LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  CMAKE_LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Relative paths under the checkout, so another clone of the repo reuses the cache; the
  # sloppiness lets ccache cache compilations that use the tests' precompiled header.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$TAILOR_ROOT}"
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
fi
if [[ -z "${TAILOR_DATA_DIR:-}" && -d "$TAILOR_ROOT/../shared/data" ]]; then
  TAILOR_DATA_DIR="$(cd "$TAILOR_ROOT/../shared/data" && pwd)"
fi
export TAILOR_DATA_DIR="${TAILOR_DATA_DIR:-}"

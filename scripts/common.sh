# Shared settings for tailor's scripts (sourced).
TAILOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${JOBS:-$(nproc)}"
CMAKE_LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  CMAKE_LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if [[ -z "${TAILOR_DATA_DIR:-}" && -d "$TAILOR_ROOT/../shared/data" ]]; then
  TAILOR_DATA_DIR="$(cd "$TAILOR_ROOT/../shared/data" && pwd)"
fi
export TAILOR_DATA_DIR="${TAILOR_DATA_DIR:-}"

#!/usr/bin/env bash
#
# Checks that the API's release binary needs no shared library beyond those in its runtime image,
# gcr.io/distroless/cc-debian12 (glibc, libgcc_s, OpenSSL 3). Re-run it whenever the API's
# dependencies change: a new native dependency (e.g. libpq, or OpenSSL from another Debian
# release) would make the container fail at start-up with "error while loading shared libraries".
#
# Usage: scripts/check-runtime-libs.sh [path/to/binary]   (default: builds target/release/backend)

set -euo pipefail

# Sonames shipped by distroless/cc-debian12.
readonly PROVIDED=(
  ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1
  libgcc_s.so.1 libstdc++.so.6 libssl.so.3 libcrypto.so.3
)

err() {
  echo "check-runtime-libs: $*" >&2
}

need_cmd() {
  if ! command -v "$1" >/dev/null 2>&1; then
    err "'$1' is required but not installed ($2)"
    exit 1
  fi
}

# Prints the sonames a binary declares as NEEDED, one a line.
needed_libs() {
  readelf --dynamic "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}

is_provided() {
  local lib="$1" provided
  for provided in "${PROVIDED[@]}"; do
    [[ "${lib}" == "${provided}" ]] && return 0
  done
  return 1
}

main() {
  need_cmd readelf "Debian package binutils"
  local binary="${1:-}"
  if [[ -z "${binary}" ]]; then
    need_cmd cargo "https://rustup.rs"
    cargo build --release --locked --package backend --bin backend
    binary="target/release/backend"
  fi
  if [[ ! -f "${binary}" ]]; then
    err "no such binary: ${binary}"
    exit 1
  fi

  local lib missing=0
  while IFS= read -r lib; do
    if is_provided "${lib}"; then
      echo "ok       ${lib}"
    else
      echo "MISSING  ${lib} (not in distroless/cc-debian12: change the runtime image or the dependency)"
      missing=1
    fi
  done < <(needed_libs "${binary}")
  if ((missing)); then
    err "${binary} needs libraries its runtime image lacks"
    exit 1
  fi
  echo "${binary}: every needed library is in distroless/cc-debian12"
}

main "$@"

#!/usr/bin/env bash
# Trunk post_build hook (see Trunk.toml). For development builds only, copies the runtime
# configuration named by SPA_CONFIG_FILE (default frontend/config.local.json, written by setup.sh)
# into the build as /config.json. Release builds are left without one: deploy.sh writes
# dist/config.json for the environment it deploys to, and the e2e tests serve theirs from memory.
set -euo pipefail

main() {
  if [[ "${TRUNK_PROFILE:-}" == "release" ]]; then
    return 0
  fi
  local config="${SPA_CONFIG_FILE:-frontend/config.local.json}"
  if [[ ! -f "$config" ]]; then
    echo "dev-config: no $config: the app will show its configuration error page" \
      "(write that file, or point SPA_CONFIG_FILE at one)" >&2
    return 0
  fi
  cp -- "$config" "${TRUNK_STAGING_DIR:?set by trunk}/config.json"
  echo "dev-config: serving $config as /config.json" >&2
}

main "$@"

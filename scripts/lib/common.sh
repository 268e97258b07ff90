#!/usr/bin/env bash
#
# Helpers shared by setup.sh, deploy.sh and cleanup.sh: logging, preflight checks, dry-run aware
# execution and bounded retries. Sourced, never run. The sourcing script sets SCRIPT_NAME and
# DRY_RUN (true|false) before calling these.

# Progress, to stderr: stdout carries only data between functions (JSON, ids).
log() {
  printf '%s: %s\n' "${SCRIPT_NAME}" "$*" >&2
}

# A failure, as one line on stderr.
err() {
  printf '%s: error: %s\n' "${SCRIPT_NAME}" "$*" >&2
}

die() {
  err "$@"
  exit 1
}

# Fails with one line naming the missing tool and how to get it.
need_cmd() {
  if ! command -v "$1" >/dev/null 2>&1; then
    die "'$1' is required but was not found on PATH (install: $2)"
  fi
}

# Runs a command that changes something, or only prints it under --dry-run. Arguments, never
# secrets: secrets travel in files or the environment, so printing the command is safe.
run() {
  if [[ "${DRY_RUN}" == true ]]; then
    local quoted
    printf -v quoted '%q ' "$@"
    printf '[dry-run] %s\n' "${quoted% }" >&2
    return 0
  fi
  "$@"
}

# Runs a command up to ATTEMPTS times, RETRY_DELAY_SECONDS (default 15) apart; for Azure role
# assignments, which take minutes to apply, and for a scaled-to-zero app's cold start.
retry() {
  local attempts="$1" attempt=1
  shift
  until "$@"; do
    if ((attempt >= attempts)); then
      return 1
    fi
    log "  not yet (attempt ${attempt}/${attempts}); retrying in ${RETRY_DELAY_SECONDS:-15}s"
    sleep "${RETRY_DELAY_SECONDS:-15}"
    attempt=$((attempt + 1))
  done
}

# Creates the private (mode 700) directory that private_file writes into, and removes it on exit
# (callers that set their own EXIT trap call remove_private_dir from it). Call once from main.
init_private_dir() {
  PRIVATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/${SCRIPT_NAME}.XXXXXX")"
  trap remove_private_dir EXIT
}

remove_private_dir() {
  if [[ -n "${PRIVATE_DIR:-}" ]]; then
    rm -rf -- "${PRIVATE_DIR}"
  fi
}

# Writes stdin to a new file in the private directory and prints its path: for request bodies
# and secret values, which must not appear in argv (visible to every local user in ps).
private_file() {
  local file
  file="$(mktemp "${PRIVATE_DIR:?init_private_dir was not called}/data.XXXXXX")"
  cat >"${file}"
  printf '%s\n' "${file}"
}

# Fails unless $2 is a GUID; $1 names the value in the message.
require_guid() {
  if [[ ! "$2" =~ ^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$ ]]; then
    die "$1 must be a GUID, got '$2'"
  fi
}

# Fails unless `az` has a signed-in account.
require_az_login() {
  if ! az account show --output none >/dev/null 2>&1; then
    die "not signed in to Azure: run 'az login' (or azure/login in CI) first"
  fi
}

#!/usr/bin/env bash
#
# setup.sh: one-time Microsoft Entra ID setup for a tenant you are signed in to with `az login`.
#
# Creates (or finds and reuses, so it can be re-run) the API app registration (identifier URI
# api://<appId>, scope access_as_user, app roles Admin/Editor/Reader), the SPA registration
# (SPA redirect URI http://localhost:8080/, access to the API scope and Graph User.Read), two
# test users with the Editor and Reader roles, the Admin role for you, and the local settings
# backend/.env and frontend/config.local.json. Test user passwords go to .dev/test-users.txt
# (mode 600), never to the terminal.

set -euo pipefail
# Command substitutions fail the script too (bash does not pass -e into them by default).
shopt -s inherit_errexit

SCRIPT_NAME="setup.sh"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${REPO_ROOT}/scripts/lib/common.sh"
# shellcheck source=scripts/lib/entra.sh
source "${REPO_ROOT}/scripts/lib/entra.sh"
# shellcheck source=scripts/lib/registrations.sh
source "${REPO_ROOT}/scripts/lib/registrations.sh"

readonly LOCAL_API_URL="http://localhost:8000"

DRY_RUN=false
PREFIX="entra-rbac"

usage() {
  cat <<EOF
Usage: ./setup.sh [--prefix NAME] [--dry-run]

Registers the app in the Entra ID tenant of your 'az login' session and writes local settings.
Safe to re-run: existing registrations, users and role assignments are found and reused.

  --prefix NAME  name prefix of the registrations (NAME-api, NAME-spa) and test users
                 (NAME-editor@<domain>, NAME-reader@<domain>); default: ${PREFIX}
  --dry-run      look things up, print every change instead of making it
  --help         show this help
EOF
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --prefix)
        PREFIX="$(valid_prefix "${2:-}")"
        shift
        ;;
      --dry-run) DRY_RUN=true ;;
      --help | -h)
        usage
        exit 0
        ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
}

write_local_settings() {
  local tenant_id="$1" api_app_id="$2" spa_app_id="$3" env_file="${REPO_ROOT}/backend/.env" config
  config="$(jq -n --arg spa "${spa_app_id}" --arg tenant "${tenant_id}" --arg api "${api_app_id}" \
    --arg url "${LOCAL_API_URL}" --arg redirect "${LOCAL_REDIRECT_URI}" '{
      clientId: $spa, authority: "https://login.microsoftonline.com/\($tenant)",
      apiScope: "api://\($api)/access_as_user", apiBaseUrl: $url, redirectUri: $redirect}')"
  if [[ "${DRY_RUN}" == true ]]; then
    log "[dry-run] would set AZURE_TENANT_ID and AZURE_API_CLIENT_ID in backend/.env"
    log "[dry-run] would write frontend/config.local.json: ${config}"
    return
  fi
  # Other settings a developer keeps in backend/.env survive; only our two keys are replaced.
  local kept=""
  if [[ -f "${env_file}" ]]; then
    kept="$(grep -v -E '^(AZURE_TENANT_ID|AZURE_API_CLIENT_ID)=' "${env_file}" || true)"
  fi
  {
    if [[ -n "${kept}" ]]; then
      printf '%s\n' "${kept}"
    fi
    printf 'AZURE_TENANT_ID=%s\nAZURE_API_CLIENT_ID=%s\n' "${tenant_id}" "${api_app_id}"
  } >"${env_file}.new"
  mv "${env_file}.new" "${env_file}"
  printf '%s\n' "${config}" >"${REPO_ROOT}/frontend/config.local.json"
  log "  wrote backend/.env and frontend/config.local.json"
}

main() {
  parse_args "$@"
  need_cmd az "https://learn.microsoft.com/cli/azure/install-azure-cli"
  need_cmd jq "Debian package jq"
  require_az_login
  init_private_dir

  local tenant_id me domain api spa api_sp
  tenant_id="$(az account show --query tenantId --output tsv)"
  require_guid "the signed-in tenant id" "${tenant_id}"
  me="$(graph_get "/me?\$select=id" | jq -r .id)" ||
    die "cannot read the signed-in user (/me): setup.sh must run as a user ('az login'), not a service principal"
  domain="$(default_domain)"
  [[ -n "${domain}" ]] || die "the tenant has no default domain to create test users in"
  log "tenant ${tenant_id}, prefix '${PREFIX}'$([[ "${DRY_RUN}" == true ]] && printf ' (dry run: nothing is changed)')"

  log "[1/5] API and SPA app registrations"
  api="$(ensure_app "${PREFIX}-api")"
  spa="$(ensure_app "${PREFIX}-spa")"
  log "[2/5] API: identifier URI, access_as_user scope, Admin/Editor/Reader roles"
  configure_api_app "$(jq -r .id <<<"${api}")" "$(jq -r .appId <<<"${api}")" "$(jq -r .appId <<<"${spa}")"
  log "[3/5] SPA: redirect URI ${LOCAL_REDIRECT_URI} and API permissions"
  configure_spa_app "$(jq -r .id <<<"${spa}")" "$(jq -r .appId <<<"${spa}")" "$(jq -r .appId <<<"${api}")"
  api_sp="$(ensure_service_principal "$(jq -r .appId <<<"${api}")")"
  ensure_service_principal "$(jq -r .appId <<<"${spa}")" >/dev/null

  log "[4/5] test users and role assignments"
  ensure_role_assignment "${me}" "${api_sp}" Admin "you"
  local role upn user
  for role in Editor Reader; do
    upn="${PREFIX}-${role,,}@${domain}"
    user="$(ensure_test_user "${upn}" "Test ${role} (${PREFIX})")"
    ensure_role_assignment "${user}" "${api_sp}" "${role}" "${upn}"
  done

  log "[5/5] local settings"
  write_local_settings "${tenant_id}" "$(jq -r .appId <<<"${api}")" "$(jq -r .appId <<<"${spa}")"
  log "done. Next: 'cargo run -p backend' and 'trunk serve', or deploy with ./deploy.sh (see docs/development.md)."
}

main "$@"

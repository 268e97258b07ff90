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

# Fixed ids, so that re-running updates the scope and roles instead of adding new ones.
readonly SCOPE_ID="f741e99f-ff38-4d73-82e6-760347280b69"
readonly ROLE_IDS=(
  "Admin=dc5bc033-74b0-49e9-93c1-5fdda2412566"
  "Editor=c9e1138f-952d-4a1f-9213-b8f5d589eb1b"
  "Reader=f39cdf30-ac3f-4825-beb4-4b75a17c7369"
)
readonly GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
readonly GRAPH_USER_READ_ID="e1fe6dd8-ba31-4d61-89e7-88639da4683d"
readonly LOCAL_REDIRECT_URI="http://localhost:8080/"
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
        [[ $# -ge 2 && "$2" =~ ^[a-z][a-z0-9-]{1,30}$ ]] ||
          die "--prefix needs a name of 2-31 lowercase letters, digits and hyphens"
        PREFIX="$2"
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

role_id() {
  local pair
  for pair in "${ROLE_IDS[@]}"; do
    [[ "${pair%%=*}" == "$1" ]] && printf '%s\n' "${pair#*=}"
  done
}

# Prints the JSON {id, appId} of the named application, creating it if needed.
ensure_app() {
  local name="$1" app
  app="$(find_owned_app "${name}")"
  if [[ -n "${app}" ]]; then
    log "  found application ${name} (appId $(jq -r .appId <<<"${app}"))"
  elif [[ "${DRY_RUN}" == true ]]; then
    graph_write POST /applications "{\"displayName\": \"${name}\"}"
    app="{\"id\": \"<${name}-object-id>\", \"appId\": \"<${name}-app-id>\"}"
  else
    app="$(graph_write POST /applications "$(jq -n --arg n "${name}" --arg t "${OWNER_TAG}" \
      '{displayName: $n, signInAudience: "AzureADMyOrg", tags: [$t]}')")"
    log "  created application ${name} (appId $(jq -r .appId <<<"${app}"))"
  fi
  jq -c '{id, appId}' <<<"${app}"
}

# Prints the object id of the app's service principal (its identity in this tenant).
ensure_service_principal() {
  local app_id="$1" sp
  if [[ "${app_id}" != "<"* ]]; then
    sp="$(graph_get "/servicePrincipals?\$filter=appId%20eq%20'${app_id}'&\$select=id" | jq -r '.value[0].id // empty')"
  fi
  if [[ -z "${sp:-}" ]]; then
    sp="$(graph_write POST /servicePrincipals "{\"appId\": \"${app_id}\"}" | jq -r '.id // empty')"
  fi
  printf '%s\n' "${sp:-<new-service-principal-id>}"
}

configure_api_app() {
  local object_id="$1" app_id="$2" spa_app_id="$3" roles
  roles="$(for pair in "${ROLE_IDS[@]}"; do printf '%s\n' "${pair}"; done | jq -R -s -c '
    split("\n") | map(select(length > 0) | split("=") | {
      id: .[1], value: .[0], displayName: .[0], isEnabled: true, allowedMemberTypes: ["User"],
      description: ({Admin: "Full access: manage all tasks and users",
                     Editor: "Create, read, and update own tasks",
                     Reader: "Read-only access to own tasks"}[.[0]])})')"
  graph_write PATCH "/applications/${object_id}" "$(jq -n --arg app "${app_id}" --arg scope "${SCOPE_ID}" \
    --arg spa "${spa_app_id}" --argjson roles "${roles}" '{
      identifierUris: ["api://\($app)"],
      appRoles: $roles,
      api: {
        requestedAccessTokenVersion: 2,
        oauth2PermissionScopes: [{
          id: $scope, value: "access_as_user", type: "User", isEnabled: true,
          adminConsentDisplayName: "Access the tasks API", userConsentDisplayName: "Access the tasks API",
          adminConsentDescription: "Lets the SPA call the tasks API as the signed-in user.",
          userConsentDescription: "Lets the app call the tasks API as you."}],
        preAuthorizedApplications: [{appId: $spa, delegatedPermissionIds: [$scope]}]
      }}')" >/dev/null
}

configure_spa_app() {
  local object_id="$1" spa_app_id="$2" api_app_id="$3"
  graph_write PATCH "/applications/${object_id}" "$(jq -n --arg api "${api_app_id}" \
    --arg scope "${SCOPE_ID}" --arg graph "${GRAPH_APP_ID}" --arg user_read "${GRAPH_USER_READ_ID}" '{
      requiredResourceAccess: [
        {resourceAppId: $graph, resourceAccess: [{id: $user_read, type: "Scope"}]},
        {resourceAppId: $api, resourceAccess: [{id: $scope, type: "Scope"}]}]}')" >/dev/null
  if [[ "${spa_app_id}" == "<"* ]]; then
    graph_write PATCH "/applications/${object_id}" "{\"spa\": {\"redirectUris\": [\"${LOCAL_REDIRECT_URI}\"]}}" >/dev/null
  else
    merge_spa_redirect_uri "${spa_app_id}" "${LOCAL_REDIRECT_URI}"
  fi
}

# Prints the object id of the test user with this UPN, creating it with a random password.
ensure_test_user() {
  local upn="$1" display_name="$2" user password
  user="$(find_owned_user "${upn}")"
  if [[ -n "${user}" ]]; then
    log "  found user ${upn}"
    jq -r .id <<<"${user}"
    return
  fi
  # od reads exactly 12 bytes, so no pipe is cut short (which pipefail would turn into a failure).
  password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')Aa1!"
  user="$(graph_write POST /users "$(jq -n --arg upn "${upn}" --arg name "${display_name}" \
    --arg pw "${password}" --arg tag "${OWNER_TAG}" '{
      accountEnabled: true, displayName: $name, userPrincipalName: $upn,
      mailNickname: ($upn | split("@")[0]), employeeType: $tag,
      passwordProfile: {password: $pw, forceChangePasswordNextSignIn: true}}')")"
  if [[ "${DRY_RUN}" != true ]]; then
    mkdir -p "${REPO_ROOT}/.dev"
    (umask 077 && printf '%s %s\n' "${upn}" "${password}" >>"${REPO_ROOT}/.dev/test-users.txt")
    log "  created user ${upn}; initial password in .dev/test-users.txt"
    jq -r .id <<<"${user}"
  else
    printf '<new-user-id>\n'
  fi
}

ensure_role_assignment() {
  local principal_id="$1" sp_id="$2" role="$3" label="$4" existing=""
  if [[ "${sp_id}" != "<"* && "${principal_id}" != "<"* ]]; then
    existing="$(graph_get "/servicePrincipals/${sp_id}/appRoleAssignedTo" | jq -r --arg p "${principal_id}" \
      --arg r "$(role_id "${role}")" '.value[] | select(.principalId == $p and .appRoleId == $r) | .id')"
  fi
  if [[ -n "${existing}" ]]; then
    log "  ${label} already has ${role}"
    return
  fi
  log "  giving ${label} the ${role} role"
  graph_write POST "/servicePrincipals/${sp_id}/appRoleAssignedTo" "$(jq -n --arg p "${principal_id}" \
    --arg sp "${sp_id}" --arg r "$(role_id "${role}")" '{principalId: $p, resourceId: $sp, appRoleId: $r}')" >/dev/null
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
  log "done. Next: 'cargo run -p backend' and 'trunk serve', or deploy with ./deploy.sh (see README)."
}

main "$@"

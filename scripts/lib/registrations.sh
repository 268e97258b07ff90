#!/usr/bin/env bash
#
# The app registrations, service principals, test users and app role assignments setup.sh
# creates, each found and reused when it exists. Sourced by setup.sh after common.sh and
# entra.sh; uses its REPO_ROOT (for .dev/test-users.txt).

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

# Prints the fixed id of app role $1 (Admin, Editor or Reader).
role_id() {
  local pair
  for pair in "${ROLE_IDS[@]}"; do
    if [[ "${pair%%=*}" == "$1" ]]; then
      printf '%s\n' "${pair#*=}"
      return 0
    fi
  done
  die "unknown app role '$1'"
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

# Two PATCHes: Graph checks preAuthorizedApplications against the scopes the app already has, so
# a pre-authorization sent with the scope it names is refused on a new app. Each PATCH carries
# the whole `api` object, so the result is the same whether Graph merges or replaces it.
configure_api_app() {
  local object_id="$1" app_id="$2" spa_app_id="$3" roles api
  roles="$(for pair in "${ROLE_IDS[@]}"; do printf '%s\n' "${pair}"; done | jq -R -s -c '
    split("\n") | map(select(length > 0) | split("=") | {
      id: .[1], value: .[0], displayName: .[0], isEnabled: true, allowedMemberTypes: ["User"],
      description: ({Admin: "Full access: manage all tasks and users",
                     Editor: "Create, read, and update own tasks",
                     Reader: "Read-only access to own tasks"}[.[0]])})')"
  api="$(jq -n -c --arg scope "${SCOPE_ID}" '{
    requestedAccessTokenVersion: 2,
    oauth2PermissionScopes: [{
      id: $scope, value: "access_as_user", type: "User", isEnabled: true,
      adminConsentDisplayName: "Access the tasks API", userConsentDisplayName: "Access the tasks API",
      adminConsentDescription: "Lets the SPA call the tasks API as the signed-in user.",
      userConsentDescription: "Lets the app call the tasks API as you."}]}')"
  graph_write PATCH "/applications/${object_id}" "$(jq -n --arg app "${app_id}" --argjson roles "${roles}" \
    --argjson api "${api}" '{identifierUris: ["api://\($app)"], appRoles: $roles, api: $api}')" >/dev/null
  graph_write PATCH "/applications/${object_id}" "$(jq -n --arg spa "${spa_app_id}" --arg scope "${SCOPE_ID}" \
    --argjson api "${api}" '{api: ($api + {preAuthorizedApplications: [{appId: $spa, delegatedPermissionIds: [$scope]}]})}')" >/dev/null
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
  # The password reaches jq on stdin (printf is a shell builtin): a command line is world-readable
  # in ps while the process runs.
  user="$(graph_write POST /users "$(printf '%s\n' "${password}" | jq -R --arg upn "${upn}" \
    --arg name "${display_name}" --arg tag "${OWNER_TAG}" '{
      accountEnabled: true, displayName: $name, userPrincipalName: $upn,
      mailNickname: ($upn | split("@")[0]), employeeType: $tag,
      passwordProfile: {password: ., forceChangePasswordNextSignIn: true}}')")"
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
    existing="$(graph_get_all "/servicePrincipals/${sp_id}/appRoleAssignedTo" | jq -r --arg p "${principal_id}" \
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

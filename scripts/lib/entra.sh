#!/usr/bin/env bash
#
# Microsoft Graph helpers for the app registrations and test users, shared by setup.sh,
# deploy.sh and cleanup.sh. Sourced after common.sh. Everything goes through `az rest`, so the
# signed-in `az` account is the only credential.

readonly GRAPH="https://graph.microsoft.com/v1.0"
# Marks what setup.sh created, so cleanup.sh deletes only that.
readonly OWNER_TAG="entra-rbac-reference"

# GET a Graph path (starting with /); prints the JSON.
graph_get() {
  az rest --only-show-errors --method GET --uri "${GRAPH}$1"
}

# Most pages graph_get_all follows: at Graph's default of 100 items a page, 10,000 items.
readonly GRAPH_MAX_PAGES=100

# GET a Graph collection path and every further page of it (@odata.nextLink, followed only
# on Graph itself and at most GRAPH_MAX_PAGES times); prints {"value": [every item]}.
graph_get_all() {
  local uri="${GRAPH}$1" pages=() page count=0
  while [[ -n "${uri}" ]]; do
    count=$((count + 1))
    if ((count > GRAPH_MAX_PAGES)); then
      die "Graph returned more than ${GRAPH_MAX_PAGES} pages for $1; clean up the tenant or raise GRAPH_MAX_PAGES"
    fi
    page="$(az rest --only-show-errors --method GET --uri "${uri}")"
    pages+=("${page}")
    uri="$(jq -r '."@odata.nextLink" // empty' <<<"${page}")"
    if [[ -n "${uri}" && "${uri}" != "${GRAPH}/"* ]]; then
      die "Graph's next page link leaves ${GRAPH}: ${uri}"
    fi
  done
  printf '%s\n' "${pages[@]}" | jq -s -c '{value: map(.value) | add}'
}

# POST/PATCH/DELETE a Graph path with an optional JSON body (from a private file, so that user
# passwords never reach argv); prints the response. Only printed under --dry-run.
graph_write() {
  local method="$1" path="$2" body="${3:-}"
  if [[ -z "${body}" ]]; then
    run az rest --only-show-errors --method "${method}" --uri "${GRAPH}${path}"
    return
  fi
  if [[ "${DRY_RUN}" == true ]]; then
    printf '[dry-run] az rest --method %s --uri %s --body %s\n' "${method}" "${GRAPH}${path}" \
      "$(jq -c 'if .passwordProfile then .passwordProfile.password = "<generated>" else . end' <<<"${body}")" >&2
    return 0
  fi
  az rest --only-show-errors --method "${method}" --uri "${GRAPH}${path}" \
    --headers "Content-Type=application/json" --body "@$(private_file <<<"${body}")"
}

# Prints $1 if it can be a --prefix (it names registrations and user accounts), else fails.
valid_prefix() {
  [[ "$1" =~ ^[a-z][a-z0-9-]{1,30}$ ]] ||
    die "--prefix needs a name of 2-31 lowercase letters, digits and hyphens"
  printf '%s\n' "$1"
}

# Prints the JSON of the application setup.sh created with this display name, or nothing. Fails
# if an application of that name exists without our tag: it belongs to someone else.
find_owned_app() {
  local name="$1" apps
  apps="$(graph_get "/applications?\$filter=displayName%20eq%20'${name}'&\$select=id,appId,displayName,tags,spa")"
  if jq -e --arg tag "${OWNER_TAG}" '.value | any(.tags | index($tag) | not)' <<<"${apps}" >/dev/null; then
    die "an application named '${name}' exists but was not created by setup.sh; choose another --prefix"
  fi
  jq -c '.value[0] // empty' <<<"${apps}"
}

# Prints the JSON of the user setup.sh created with this UPN, or nothing; fails on a namesake.
find_owned_user() {
  local upn="$1" users
  users="$(graph_get "/users?\$filter=userPrincipalName%20eq%20'${upn}'&\$select=id,userPrincipalName,employeeType")"
  if jq -e --arg tag "${OWNER_TAG}" '.value | any(.employeeType != $tag)' <<<"${users}" >/dev/null; then
    die "a user '${upn}' exists but was not created by setup.sh; choose another --prefix"
  fi
  jq -c '.value[0] // empty' <<<"${users}"
}

# The tenant's default domain, for the test users' UPNs.
default_domain() {
  graph_get "/domains?\$select=id,isDefault" | jq -r '.value[] | select(.isDefault) | .id'
}

# Adds a redirect URI to the SPA platform of the application with this appId (client id),
# keeping every URI already registered; changes nothing if it is there.
merge_spa_redirect_uri() {
  local app_id="$1" uri="$2" app merged
  app="$(graph_get "/applications(appId='${app_id}')?\$select=id,spa")"
  if jq -e --arg uri "${uri}" '.spa.redirectUris | index($uri)' <<<"${app}" >/dev/null; then
    log "  ${uri} is already a redirect URI"
    return 0
  fi
  merged="$(jq -c --arg uri "${uri}" '{spa: {redirectUris: ((.spa.redirectUris // []) + [$uri])}}' <<<"${app}")"
  log "  adding redirect URI ${uri} (keeping the $(jq '.spa.redirectUris // [] | length' <<<"${app}") registered)"
  graph_write PATCH "/applications/$(jq -r .id <<<"${app}")" "${merged}" >/dev/null
}

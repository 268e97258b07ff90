#!/usr/bin/env bash
#
# The SPA's deployed runtime settings (frontend/README.md, "Runtime configuration"): dist/config.json
# (the shape of shared::SpaConfig; deploy-checks parses what this writes as that type) and the
# origins the SPA connects to in the CSP of dist/staticwebapp.config.json. Sourced by deploy.sh.

# The authority the SPA signs in with: AZURE_SPA_AUTHORITY when set (Entra External ID, a B2C
# policy, a sovereign cloud: any authority with an OpenID configuration), else Entra ID's for the
# tenant. https only: the SPA refuses anything else outside this machine.
spa_authority() {
  local tenant="$1" authority="${AZURE_SPA_AUTHORITY:-}"
  if [[ -z "${authority}" ]]; then
    printf 'https://login.microsoftonline.com/%s\n' "${tenant}"
    return
  fi
  [[ "${authority}" =~ ^https://[^/?#@[:space:]]+(/[^?#[:space:]]*)?$ ]] ||
    die "AZURE_SPA_AUTHORITY must be an https URL without query or fragment, like https://contoso.ciamlogin.com/contoso.onmicrosoft.com (got '${authority}')"
  printf '%s\n' "${authority%/}"
}

# `scheme://host[:port]` of a URL: what a CSP source names.
url_origin() {
  local url="$1" scheme rest
  scheme="${url%%://*}"
  rest="${url#*://}"
  printf '%s://%s\n' "${scheme}" "${rest%%/*}"
}

# Prints config.json for the deployed SPA: client id, authority, API client id, API URL, redirect URI.
spa_runtime_config() {
  jq -n --arg client "$1" --arg authority "$2" --arg api "$3" --arg url "$4" --arg redirect "$5" '{
    clientId: $client,
    authority: $authority,
    apiScope: "api://\($api)/access_as_user",
    apiBaseUrl: $url,
    redirectUri: $redirect}'
}

# Adds an origin to the connect-src directive of the Content-Security-Policy global header in a
# staticwebapp.config.json, keeping the other sources and directives. Fails if the file has no
# such directive: the SPA's CSP is then not the one frontend/README.md describes.
allow_connect_src() {
  local file="$1" origin="$2" updated
  if ! jq -e '.globalHeaders["Content-Security-Policy"] // "" | test("(^|;)\\s*connect-src\\s")' \
    "${file}" >/dev/null 2>&1; then
    die "${file} has no Content-Security-Policy connect-src directive to add ${origin} to"
  fi
  updated="$(jq --arg origin "${origin}" '
    .globalHeaders["Content-Security-Policy"] |= (
      split(";") | map(gsub("^\\s+|\\s+$"; "")) | map(select(length > 0))
      | map(if startswith("connect-src ") and ((split(" ") | index($origin)) | not)
            then . + " " + $origin else . end)
      | join("; "))' "${file}")"
  printf '%s\n' "${updated}" >"${file}"
}

#!/usr/bin/env bash
#
# The SPA's deployed runtime settings (CONTRACTS.md, "SPA runtime configuration"): dist/config.json
# and the API origin in the CSP of dist/staticwebapp.config.json. Sourced by deploy.sh.

# Prints config.json for the deployed SPA: client id, tenant, API client id, API URL, redirect URI.
spa_runtime_config() {
  jq -n --arg client "$1" --arg tenant "$2" --arg api "$3" --arg url "$4" --arg redirect "$5" '{
    clientId: $client,
    authority: "https://login.microsoftonline.com/\($tenant)",
    apiScope: "api://\($api)/access_as_user",
    apiBaseUrl: $url,
    redirectUri: $redirect}'
}

# Adds an origin to the connect-src directive of the Content-Security-Policy global header in a
# staticwebapp.config.json, keeping the other sources and directives. Fails if the file has no
# such directive: the SPA's CSP is then not the one CONTRACTS.md describes.
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

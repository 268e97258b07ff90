#!/usr/bin/env bash
#
# deploy.sh: builds and deploys the app onto the infrastructure `terraform apply` created in
# infra/. Steps, each idempotent (re-running skips or repeats harmlessly what is done):
#   secrets   seed the API's configuration into Key Vault
#   image     build the API image tagged with the git commit and push it to the registry (a
#             commit already there is reused; uncommitted changes are always rebuilt)
#   app       point the Container App at that image (pulled with its managed identity)
#   spa       build the SPA and write dist/config.json, and the authority's and the API's origins
#             into its CSP
#   publish   upload dist/ to the Static Web App
#   redirect  add the site URL to the SPA registration's redirect URIs, keeping the others
#   smoke     check /health and a CORS preflight from the site's origin
# No secret is printed or passed in argv: the SWA deployment token goes to the SWA CLI in its
# environment, Key Vault values from a private file.

set -euo pipefail
# Command substitutions fail the script too (bash does not pass -e into them by default).
shopt -s inherit_errexit

SCRIPT_NAME="deploy.sh"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${REPO_ROOT}/scripts/lib/common.sh"
# shellcheck source=scripts/lib/entra.sh
source "${REPO_ROOT}/scripts/lib/entra.sh"
# shellcheck source=scripts/lib/spa.sh
source "${REPO_ROOT}/scripts/lib/spa.sh"
# shellcheck source=scripts/lib/deploy_inputs.sh
source "${REPO_ROOT}/scripts/lib/deploy_inputs.sh"

readonly STEPS=(secrets image app spa publish redirect smoke)

DRY_RUN=false
REMOTE_BUILD=false
FROM_STEP="secrets"
CURRENT_STEP=""
SWA_CLI=()
# Terraform outputs and app settings, filled by load_outputs and load_app_settings.
declare -A OUT=()
TENANT_ID=""
API_CLIENT_ID=""
SPA_CLIENT_ID=""
IMAGE=""

usage() {
  cat <<EOF
Usage: ./deploy.sh [--remote-build] [--from STEP] [--dry-run]

Deploys the API and the SPA onto the infrastructure from 'terraform -chdir=infra apply'.

  --remote-build  build the image in Azure ('az acr build') instead of with a local Docker engine
  --from STEP     resume at STEP, one of: ${STEPS[*]}
  --dry-run       look things up, print every change instead of making it
  --help          show this help

Settings come from the environment or, failing that, from the files setup.sh writes:
  AZURE_TENANT_ID, AZURE_API_CLIENT_ID  (backend/.env)
  AZURE_SPA_CLIENT_ID                   (clientId in frontend/config.local.json)
Optional:
  AZURE_SPA_AUTHORITY  where the SPA signs in (default https://login.microsoftonline.com/<tenant>);
                       any https authority with an OpenID configuration, e.g. Entra External ID
EOF
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --remote-build) REMOTE_BUILD=true ;;
      --dry-run) DRY_RUN=true ;;
      --from)
        [[ $# -ge 2 && " ${STEPS[*]} " == *" $2 "* ]] || die "--from needs one of: ${STEPS[*]}"
        FROM_STEP="$2"
        shift
        ;;
      --help | -h)
        usage
        exit 0
        ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
}

step_title() {
  case "$1" in
    secrets) echo "seed the API's settings into Key Vault ${OUT[key_vault_name]}" ;;
    image) echo "build and push the API image" ;;
    app) echo "point Container App ${OUT[backend_app_name]} at the image" ;;
    spa) echo "build the SPA with its deployed config" ;;
    publish) echo "upload dist/ to the Static Web App" ;;
    redirect) echo "register ${OUT[frontend_url]}/ as a redirect URI of the SPA" ;;
    smoke) echo "smoke test: /health and a CORS preflight" ;;
  esac
}

# Says which step failed and how to resume, whatever made the script exit.
on_exit() {
  local status=$?
  remove_private_dir
  if ((status != 0)) && [[ -n "${CURRENT_STEP}" ]]; then
    err "step '${CURRENT_STEP}' failed; fix the cause above, then resume with: ./deploy.sh --from ${CURRENT_STEP}"
  fi
}

preflight() {
  need_cmd az "https://learn.microsoft.com/cli/azure/install-azure-cli"
  need_cmd terraform "https://developer.hashicorp.com/terraform/install"
  need_cmd jq "Debian package jq"
  need_cmd curl "Debian package curl"
  need_cmd git "Debian package git"
  need_cmd trunk "cargo install trunk --locked"
  if [[ "${REMOTE_BUILD}" != true ]]; then
    need_cmd docker "https://docs.docker.com/engine/install/ (or use --remote-build)"
  fi
  if command -v swa >/dev/null 2>&1; then
    SWA_CLI=(swa)
  else
    need_cmd npx "Debian package npm (runs the Static Web Apps CLI)"
    SWA_CLI=(npx --yes @azure/static-web-apps-cli@2)
  fi
  require_az_login
  # `az containerapp` is an extension: install it on first use instead of prompting (CI has no TTY).
  export AZURE_EXTENSION_USE_DYNAMIC_INSTALL=yes_without_prompt
  load_outputs
  load_app_settings
  IMAGE="${OUT[acr_login_server]}/${OUT[backend_image_name]}:$(image_tag)"
}

step_secrets() {
  local pair name value current
  for pair in "azure-tenant-id=${TENANT_ID}" "azure-api-client-id=${API_CLIENT_ID}"; do
    name="${pair%%=*}"
    value="${pair#*=}"
    current="$(az keyvault secret show --vault-name "${OUT[key_vault_name]}" --name "${name}" \
      --query value --output tsv 2>/dev/null || true)"
    if [[ "${current}" == "${value}" ]]; then
      log "  ${name} is up to date"
      continue
    fi
    log "  setting ${name}"
    # The deployer's Secrets Officer grant can take minutes to apply after a first apply.
    retry 8 run az keyvault secret set --vault-name "${OUT[key_vault_name]}" --name "${name}" \
      --file "$(printf '%s' "${value}" | private_file)" --encoding utf-8 --output none
  done
}

step_image() {
  local repository="${OUT[backend_image_name]}" tag="${IMAGE##*:}"
  # Only a commit's tag names one source tree: a dirty tag's image may hold files the tag's hash
  # does not cover (untracked ones), so it is never taken from the registry as it is.
  if [[ "${tag}" == *-dirty-* ]]; then
    log "  ${IMAGE} has uncommitted changes: building it even if the registry has that tag"
  elif az acr repository show --name "${OUT[acr_name]}" --image "${repository}:${tag}" --output none >/dev/null 2>&1; then
    log "  ${IMAGE} is already in the registry"
    return
  fi
  if [[ "${REMOTE_BUILD}" == true ]]; then
    log "  building ${IMAGE} in Azure (az acr build)"
    run az acr build --registry "${OUT[acr_name]}" --image "${repository}:${tag}" \
      --platform linux/amd64 --file "${REPO_ROOT}/backend/Dockerfile" "${REPO_ROOT}"
  else
    log "  building ${IMAGE} with the local Docker engine"
    run az acr login --name "${OUT[acr_name]}"
    run docker build --platform linux/amd64 --file "${REPO_ROOT}/backend/Dockerfile" --tag "${IMAGE}" "${REPO_ROOT}"
    run docker push "${IMAGE}"
  fi
}

step_app() {
  local grants current
  # Filtered by principal id rather than --assignee, which would need Graph read access to
  # resolve the identity (CI's identity has none beyond its own applications).
  grants="$(az role assignment list --scope "${OUT[acr_id]}" --role AcrPull \
    --query "length([?principalId=='${OUT[backend_principal_id]}'])" --output tsv)"
  if [[ "${grants}" == "0" ]]; then
    die "the Container App's identity has no AcrPull on the registry: run 'terraform -chdir=infra apply'"
  fi
  current="$(az containerapp show --name "${OUT[backend_app_name]}" --resource-group "${OUT[resource_group_name]}" \
    --query 'properties.template.containers[0].image' --output tsv)"
  if [[ "${current}" == "${IMAGE}" ]]; then
    log "  ${OUT[backend_app_name]} already runs ${IMAGE}"
    return
  fi
  log "  switching ${OUT[backend_app_name]}: ${current} -> ${IMAGE}"
  # AcrPull may still be propagating right after the first apply: retry, bounded.
  retry 6 run az containerapp update --name "${OUT[backend_app_name]}" \
    --resource-group "${OUT[resource_group_name]}" --image "${IMAGE}" --output none
}

step_spa() {
  local authority authority_origin config
  authority="$(spa_authority "${TENANT_ID}")"
  authority_origin="$(url_origin "${authority}")"
  (cd "${REPO_ROOT}" && run trunk build --release)
  config="$(spa_runtime_config "${SPA_CLIENT_ID}" "${authority}" "${API_CLIENT_ID}" \
    "${OUT[backend_url]}" "${OUT[frontend_url]}/")"
  if [[ "${DRY_RUN}" == true ]]; then
    log "[dry-run] would write dist/config.json: $(jq -c . <<<"${config}")"
    log "[dry-run] would add ${authority_origin} and ${OUT[backend_url]} to connect-src in dist/staticwebapp.config.json"
    return
  fi
  printf '%s\n' "${config}" >"${REPO_ROOT}/dist/config.json"
  # The SPA reads the authority's OpenID configuration and redeems codes there, and calls the API.
  allow_connect_src "${REPO_ROOT}/dist/staticwebapp.config.json" "${authority_origin}"
  allow_connect_src "${REPO_ROOT}/dist/staticwebapp.config.json" "${OUT[backend_url]}"
  log "  wrote dist/config.json; CSP connect-src allows ${authority_origin} and ${OUT[backend_url]}"
}

step_publish() {
  # The config location is explicit: left out, the SWA CLI searches the current folder and the
  # repo root's staticwebapp.config.json (without the API in its CSP) could win over dist/'s.
  local deploy=("${SWA_CLI[@]}" deploy "${REPO_ROOT}/dist" --swa-config-location "${REPO_ROOT}/dist" --env production)
  if [[ "${DRY_RUN}" == true ]]; then
    run "${deploy[@]}"
    return
  fi
  local token
  token="$(terraform -chdir="${REPO_ROOT}/infra" output -raw swa_deployment_token)"
  SWA_CLI_DEPLOYMENT_TOKEN="${token}" run "${deploy[@]}"
}

step_redirect() {
  merge_spa_redirect_uri "${SPA_CLIENT_ID}" "${OUT[frontend_url]}/"
}

step_smoke() {
  if [[ "${DRY_RUN}" == true ]]; then
    log "[dry-run] would GET ${OUT[backend_url]}/health and send a CORS preflight from ${OUT[frontend_url]}"
    return
  fi
  # A scaled-to-zero app needs a cold start: retry, bounded.
  retry 10 curl --fail --silent --show-error --max-time 30 --output /dev/null "${OUT[backend_url]}/health" ||
    die "${OUT[backend_url]}/health did not answer 2xx; see 'az containerapp logs show -n ${OUT[backend_app_name]} -g ${OUT[resource_group_name]}'"
  log "  /health answers"
  local headers
  headers="$(curl --silent --show-error --max-time 30 --output /dev/null --dump-header - --request OPTIONS \
    --header "Origin: ${OUT[frontend_url]}" --header "Access-Control-Request-Method: GET" \
    --header "Access-Control-Request-Headers: authorization" "${OUT[backend_url]}/api/tasks" | tr -d '\r')"
  grep -qiF "access-control-allow-origin: ${OUT[frontend_url]}" <<<"${headers}" ||
    die "the API does not allow CORS from ${OUT[frontend_url]}: check ALLOWED_ORIGINS on ${OUT[backend_app_name]}"
  log "  CORS preflight from ${OUT[frontend_url]} is allowed"
}

main() {
  parse_args "$@"
  init_private_dir
  trap on_exit EXIT
  preflight
  log "deploying ${IMAGE}$([[ "${DRY_RUN}" == true ]] && printf ' (dry run: nothing is changed)')"
  local step index=0 started=false
  for step in "${STEPS[@]}"; do
    index=$((index + 1))
    [[ "${step}" == "${FROM_STEP}" ]] && started=true
    if [[ "${started}" != true ]]; then
      log "[${index}/${#STEPS[@]}] ${step}: skipped (resuming --from ${FROM_STEP})"
      continue
    fi
    log "[${index}/${#STEPS[@]}] ${step}: $(step_title "${step}")"
    CURRENT_STEP="${step}"
    "step_${step}"
  done
  CURRENT_STEP=""
  log "done: ${OUT[frontend_url]} (API ${OUT[backend_url]})"
}

main "$@"

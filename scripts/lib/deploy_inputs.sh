#!/usr/bin/env bash
#
# What deploy.sh deploys with: the Terraform outputs, the app's ids (environment or the files
# setup.sh writes) and the image tag (the git commit). Sourced by deploy.sh, which declares the
# OUT map and the TENANT_ID, API_CLIENT_ID and SPA_CLIENT_ID variables these fill.

# Reads the non-sensitive Terraform outputs into OUT.
load_outputs() {
  local json
  json="$(terraform -chdir="${REPO_ROOT}/infra" output -json 2>/dev/null)" ||
    die "cannot read Terraform outputs: run 'terraform -chdir=infra init' and 'terraform -chdir=infra apply' first"
  local name
  for name in backend_url frontend_url key_vault_name acr_name acr_id acr_login_server \
    backend_image_name resource_group_name backend_app_name backend_principal_id; do
    OUT["${name}"]="$(jq -r --arg n "${name}" '.[$n].value // empty' <<<"${json}")"
    [[ -n "${OUT[${name}]}" ]] ||
      die "Terraform output '${name}' is missing: run 'terraform -chdir=infra apply' with this version of infra/"
  done
}

# Reads KEY from backend/.env without executing the file.
env_file_value() {
  local file="${REPO_ROOT}/backend/.env"
  [[ -f "${file}" ]] || return 0
  sed -n "s/^$1=//p" "${file}" | tail -n 1 | tr -d '"'"'"'\r'
}

load_app_settings() {
  TENANT_ID="${AZURE_TENANT_ID:-$(env_file_value AZURE_TENANT_ID)}"
  API_CLIENT_ID="${AZURE_API_CLIENT_ID:-$(env_file_value AZURE_API_CLIENT_ID)}"
  SPA_CLIENT_ID="${AZURE_SPA_CLIENT_ID:-}"
  if [[ -z "${SPA_CLIENT_ID}" && -f "${REPO_ROOT}/frontend/config.local.json" ]]; then
    SPA_CLIENT_ID="$(jq -r '.clientId // empty' "${REPO_ROOT}/frontend/config.local.json")"
  fi
  if [[ -z "${TENANT_ID}" || -z "${API_CLIENT_ID}" || -z "${SPA_CLIENT_ID}" ]]; then
    die "AZURE_TENANT_ID, AZURE_API_CLIENT_ID and AZURE_SPA_CLIENT_ID are needed: run ./setup.sh (writes backend/.env and frontend/config.local.json) or set them in the environment"
  fi
  require_guid AZURE_TENANT_ID "${TENANT_ID}"
  require_guid AZURE_API_CLIENT_ID "${API_CLIENT_ID}"
  require_guid AZURE_SPA_CLIENT_ID "${SPA_CLIENT_ID}"
}

# The git commit; with uncommitted changes to tracked files, "-dirty-" and a hash of those changes
# follow, so that each different tree gets a tag of its own and the Container App switches to it
# (a tag it already runs would not make a new revision). step_image rebuilds dirty tags every time.
image_tag() {
  local tag changes
  tag="$(git -C "${REPO_ROOT}" rev-parse --short=12 HEAD 2>/dev/null)" ||
    die "cannot read the git commit to tag the image with: run deploy.sh from a git checkout"
  if [[ -n "$(git -C "${REPO_ROOT}" status --porcelain --untracked-files=no)" ]]; then
    changes="$(git -C "${REPO_ROOT}" diff --binary HEAD | git -C "${REPO_ROOT}" hash-object --stdin)"
    tag="${tag}-dirty-${changes:0:12}"
  fi
  printf '%s\n' "${tag}"
}

#!/usr/bin/env bash
#
# cleanup.sh: removes what setup.sh and `terraform apply` created: the Azure resources
# (`terraform destroy`), the app registrations and test users setup.sh created (recognised by the
# tag setup.sh put on them, so a namesake is never deleted), and the local settings files.
# Asks for confirmation unless --yes. Safe to re-run: what is already gone is skipped.

set -euo pipefail
# Command substitutions fail the script too (bash does not pass -e into them by default).
shopt -s inherit_errexit

SCRIPT_NAME="cleanup.sh"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/common.sh
source "${REPO_ROOT}/scripts/lib/common.sh"
# shellcheck source=scripts/lib/entra.sh
source "${REPO_ROOT}/scripts/lib/entra.sh"

readonly LOCAL_FILES=(backend/.env frontend/config.local.json .dev/test-users.txt)

DRY_RUN=false
ASSUME_YES=false
PREFIX="entra-rbac"

usage() {
  cat <<EOF
Usage: ./cleanup.sh [--yes] [--prefix NAME] [--dry-run]

Destroys the Terraform-managed Azure resources, deletes the app registrations and test users
setup.sh created, and removes the local settings files.

  --yes          do not ask for confirmation (needed when not run from a terminal)
  --prefix NAME  the --prefix given to setup.sh; default: ${PREFIX}
  --dry-run      look things up, print every change instead of making it
  --help         show this help
EOF
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --yes | -y) ASSUME_YES=true ;;
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

confirm() {
  if [[ "${ASSUME_YES}" == true || "${DRY_RUN}" == true ]]; then
    return
  fi
  if [[ ! -t 0 ]]; then
    die "refusing to delete without confirmation: re-run with --yes"
  fi
  local answer
  read -r -p "Delete the Azure resources, registrations '${PREFIX}-api'/'${PREFIX}-spa', their test users and local settings? Type 'delete': " answer
  [[ "${answer}" == "delete" ]] || die "not confirmed; nothing was deleted"
}

destroy_infrastructure() {
  local state
  state="$(terraform -chdir="${REPO_ROOT}/infra" state list 2>/dev/null)" ||
    die "cannot read the Terraform state: run 'terraform -chdir=infra init' (with the same backend as apply) first"
  if [[ -z "${state}" ]]; then
    log "  no Terraform-managed resources"
    return
  fi
  run terraform -chdir="${REPO_ROOT}/infra" destroy -auto-approve -input=false
}

# Deletes the object FINDER (find_owned_app or find_owned_user) returns for NAME, if there is one.
delete_owned() {
  local finder="$1" collection="$2" name="$3" object
  object="$("${finder}" "${name}")"
  if [[ -z "${object}" ]]; then
    log "  no ${name}"
    return
  fi
  log "  deleting ${name}"
  graph_write DELETE "/${collection}/$(jq -r .id <<<"${object}")" >/dev/null
}

delete_registrations() {
  local name
  # Deleting an application also deletes its service principal and the role assignments to it.
  for name in "${PREFIX}-spa" "${PREFIX}-api"; do
    delete_owned find_owned_app applications "${name}"
  done
}

delete_test_users() {
  local domain role
  domain="$(default_domain)"
  for role in editor reader; do
    delete_owned find_owned_user users "${PREFIX}-${role}@${domain}"
  done
}

remove_local_files() {
  local file
  for file in "${LOCAL_FILES[@]}"; do
    if [[ -e "${REPO_ROOT}/${file}" ]]; then
      log "  removing ${file}"
      run rm -f -- "${REPO_ROOT}/${file}"
    fi
  done
}

main() {
  parse_args "$@"
  need_cmd az "https://learn.microsoft.com/cli/azure/install-azure-cli"
  need_cmd terraform "https://developer.hashicorp.com/terraform/install"
  need_cmd jq "Debian package jq"
  require_az_login
  init_private_dir
  confirm
  log "[1/4] Azure resources (terraform destroy)"
  destroy_infrastructure
  log "[2/4] app registrations"
  delete_registrations
  log "[3/4] test users"
  delete_test_users
  log "[4/4] local settings"
  remove_local_files
  log "done"
}

main "$@"

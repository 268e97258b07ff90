provider "azurerm" {
  # Null falls back to ARM_SUBSCRIPTION_ID (required by azurerm 4.x one way or the other).
  subscription_id = var.subscription_id

  features {
    key_vault {
      # A purge-protected vault cannot be purged; otherwise purge on destroy so that cleanup.sh
      # followed by a new apply can reuse the vault name.
      purge_soft_delete_on_destroy    = !var.key_vault_purge_protection_enabled
      recover_soft_deleted_key_vaults = true
    }
  }
}

data "azurerm_client_config" "current" {}

module "resource_group" {
  source = "./modules/resource_group"

  name     = var.resource_group_name
  location = var.location
  tags     = var.tags
}

module "key_vault" {
  source = "./modules/key_vault"

  name                       = var.key_vault_name
  location                   = module.resource_group.location
  resource_group_name        = module.resource_group.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  soft_delete_retention_days = var.key_vault_soft_delete_retention_days
  purge_protection_enabled   = var.key_vault_purge_protection_enabled
  tags                       = var.tags
}

module "container_registry" {
  source = "./modules/container_registry"

  name                = var.acr_name
  location            = module.resource_group.location
  resource_group_name = module.resource_group.name
  sku                 = var.acr_sku
  tags                = var.tags
}

module "static_web_app" {
  source = "./modules/static_web_app"

  name                = var.static_web_app_name
  location            = var.static_web_app_location
  resource_group_name = module.resource_group.name
  tags                = var.tags
}

module "container_apps" {
  source = "./modules/container_apps"

  environment_name             = var.container_apps_env_name
  log_analytics_workspace_name = var.log_analytics_workspace_name
  log_retention_days           = var.log_retention_days
  resource_group_name          = module.resource_group.name
  location                     = module.resource_group.location

  backend_app_name            = var.backend_app_name
  backend_image               = var.backend_placeholder_image
  backend_cpu                 = var.backend_cpu
  backend_memory              = var.backend_memory
  backend_min_replicas        = var.backend_min_replicas
  backend_max_replicas        = var.backend_max_replicas
  backend_concurrent_requests = var.backend_concurrent_requests

  key_vault_url    = module.key_vault.vault_uri
  allowed_origins  = local.allowed_origins
  acr_login_server = module.container_registry.login_server
  database_url     = local.database_url

  tags = var.tags
}

# Tasks in PostgreSQL, signed in to by the API's identity: they survive scale to zero and
# redeploys. On by default; postgres_enabled = false keeps them in the container instead.
module "postgres" {
  source = "./modules/postgres"
  count  = var.postgres_enabled ? 1 : 0

  name                    = local.postgres_server_name
  location                = module.resource_group.location
  resource_group_name     = module.resource_group.name
  tenant_id               = data.azurerm_client_config.current.tenant_id
  administrator_object_id = module.container_apps.managed_identity_principal_id
  administrator_name      = module.container_apps.backend_app_name
  database_name           = local.postgres_database
  sku_name                = var.postgres_sku_name
  tags                    = var.tags
}

# Every permission in the deployment, each scoped to the one resource it is about. These replace the
# original's Key Vault access policies and its registry admin password.
resource "azurerm_role_assignment" "this" {
  for_each = local.role_assignments

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = each.value.principal_id
  principal_type       = each.value.principal_type
  description          = each.value.description
}

locals {
  deployer_object_id = coalesce(var.deployer_object_id, data.azurerm_client_config.current.object_id)

  # The SPA's deployed origin and the local `trunk serve` origin (CONTRACTS.md).
  allowed_origins = [
    "https://${module.static_web_app.default_hostname}",
    "http://localhost:8080",
  ]

  backend_principal_id = module.container_apps.managed_identity_principal_id

  # The API's database when postgres_enabled (the default): the user is the PostgreSQL role of
  # the app's identity (named after the app), and there is no password (DATABASE_AUTH=entra).
  # Built from variables, not from module.postgres, which itself needs the app's identity. A bad
  # server name is reported by the postgres module's validation, with its fix.
  postgres_database    = "tasks"
  postgres_server_name = coalesce(var.postgres_server_name, lower("psql-${var.key_vault_name}"))
  database_url = var.postgres_enabled ? format(
    "postgres://%s@%s.postgres.database.azure.com:5432/%s?sslmode=verify-full",
    var.backend_app_name, local.postgres_server_name, local.postgres_database,
  ) : null

  role_assignments = {
    deployer_key_vault_secrets_officer = {
      scope          = module.key_vault.id
      role           = "Key Vault Secrets Officer"
      principal_id   = local.deployer_object_id
      principal_type = null
      description    = "deploy.sh seeds the API's configuration secrets."
    }
    backend_key_vault_secrets_user = {
      scope          = module.key_vault.id
      role           = "Key Vault Secrets User"
      principal_id   = local.backend_principal_id
      principal_type = "ServicePrincipal"
      description    = "The API reads its configuration secrets with its managed identity."
    }
    backend_acr_pull = {
      scope          = module.container_registry.id
      role           = "AcrPull"
      principal_id   = local.backend_principal_id
      principal_type = "ServicePrincipal"
      description    = "The API's Container App pulls its image with its managed identity."
    }
  }
}

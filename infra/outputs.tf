output "backend_url" {
  description = "Public HTTPS URL of the API."
  value       = module.container_apps.backend_url
}

output "frontend_url" {
  description = "Public HTTPS URL of the SPA (no trailing slash)."
  value       = "https://${module.static_web_app.default_hostname}"
}

output "key_vault_name" {
  description = "Name of the Key Vault deploy.sh seeds the API's configuration into."
  value       = module.key_vault.name
}

output "key_vault_uri" {
  description = "URI of the Key Vault, as the API receives it in AZURE_KEY_VAULT_URL."
  value       = module.key_vault.vault_uri
}

output "acr_name" {
  description = "Name of the container registry, for `az acr login` and `az acr build`."
  value       = module.container_registry.name
}

output "acr_id" {
  description = "Resource ID of the container registry; deploy.sh checks the AcrPull grant on it."
  value       = module.container_registry.id
}

output "acr_login_server" {
  description = "Host name of the container registry that image references start with."
  value       = module.container_registry.login_server
}

output "backend_image_name" {
  description = "Repository of the API image in the registry; deploy.sh tags it with the git commit."
  value       = var.backend_image_name
}

output "swa_deployment_token" {
  description = "Deployment token of the Static Web App. Sensitive: deploy.sh passes it to the SWA CLI through its environment."
  value       = module.static_web_app.api_key
  sensitive   = true
}

output "resource_group_name" {
  description = "Name of the resource group that holds every resource."
  value       = module.resource_group.name
}

output "backend_app_name" {
  description = "Name of the API's Container App."
  value       = module.container_apps.backend_app_name
}

output "backend_principal_id" {
  description = "Object ID of the API's managed identity (the principal of its Key Vault and AcrPull grants)."
  value       = module.container_apps.managed_identity_principal_id
}

output "postgres_fqdn" {
  description = "Host name of the PostgreSQL server, or null when postgres_enabled = false."
  value       = one(module.postgres[*].fqdn)
}

output "id" {
  description = "Resource ID of the registry, the scope of the AcrPull role assignment."
  value       = azurerm_container_registry.this.id
}

output "name" {
  description = "Name of the registry, as `az acr` commands expect it."
  value       = azurerm_container_registry.this.name
}

output "login_server" {
  description = "Registry host name that image references start with, e.g. myregistry.azurecr.io."
  value       = azurerm_container_registry.this.login_server
}

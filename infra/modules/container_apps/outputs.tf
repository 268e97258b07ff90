output "backend_app_id" {
  description = "Resource ID of the API's Container App."
  value       = azurerm_container_app.this.id
}

output "backend_app_name" {
  description = "Name of the API's Container App."
  value       = azurerm_container_app.this.name
}

output "backend_url" {
  description = "Public HTTPS URL of the API (its origin, no trailing slash)."
  value       = "https://${azurerm_container_app.this.ingress[0].fqdn}"
}

output "managed_identity_principal_id" {
  description = "Object ID of the app's system-assigned identity, the principal of its role assignments."
  value       = azurerm_container_app.this.identity[0].principal_id
}

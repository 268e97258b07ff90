output "id" {
  description = "Resource ID of the Static Web App."
  value       = azurerm_static_web_app.this.id
}

output "name" {
  description = "Name of the Static Web App."
  value       = azurerm_static_web_app.this.name
}

output "default_hostname" {
  description = "Generated host name of the site, e.g. nice-sea-0123.azurestaticapps.net."
  value       = azurerm_static_web_app.this.default_host_name
}

output "api_key" {
  description = "Deployment token for uploading the site. Sensitive: only deploy.sh reads it, and never prints it."
  value       = azurerm_static_web_app.this.api_key
  sensitive   = true
}

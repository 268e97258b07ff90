output "id" {
  description = "Resource ID of the PostgreSQL Flexible Server."
  value       = azurerm_postgresql_flexible_server.this.id
}

output "fqdn" {
  description = "Host name of the server, e.g. psql-name.postgres.database.azure.com."
  value       = azurerm_postgresql_flexible_server.this.fqdn
}

output "database_name" {
  description = "Name of the API's database on the server."
  value       = azurerm_postgresql_flexible_server_database.this.name
}

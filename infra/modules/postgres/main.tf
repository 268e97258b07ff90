# Azure Database for PostgreSQL Flexible Server for the API's tasks, signed in to with Entra ID
# only: password authentication is off, so no database password exists anywhere. The API's
# managed identity is the server's Entra administrator, so it can create its tables (migrations at
# start-up); the server holds nothing but this app's database.
#
# The checkov skips below follow from reaching the server over its public endpoint, as the Key
# Vault is reached (no VNet in this deployment), and from the smallest, cheapest shape.
resource "azurerm_postgresql_flexible_server" "this" {
  #checkov:skip=CKV_AZURE_136:Geo-redundant backups double the storage price; backups are kept in the region (backup_retention_days).
  #checkov:skip=CKV2_AZURE_57:A private endpoint needs a VNet-integrated Container Apps environment; listed under production hardening in docs/deployment.md.

  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  version             = var.postgres_version
  sku_name            = var.sku_name
  storage_mb          = var.storage_mb

  backup_retention_days        = var.backup_retention_days
  geo_redundant_backup_enabled = false

  # Container Apps on the Consumption plan has no fixed outbound address; every sign-in needs an
  # Entra ID token of the app's identity (see the firewall rule below).
  public_network_access_enabled = true

  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = false
    tenant_id                     = var.tenant_id
  }

  tags = var.tags

  lifecycle {
    # Azure picks the availability zone and may move the server after a failover.
    ignore_changes = [zone]
  }
}

# The API's system-assigned identity as the Entra administrator: its PostgreSQL role is named
# after the principal (the Container App's name), the user in DATABASE_URL.
resource "azurerm_postgresql_flexible_server_active_directory_administrator" "app" {
  server_name         = azurerm_postgresql_flexible_server.this.name
  resource_group_name = var.resource_group_name
  tenant_id           = var.tenant_id
  object_id           = var.administrator_object_id
  principal_name      = var.administrator_name
  principal_type      = "ServicePrincipal"
}

# Created after the administrator exists, so that the administrator owns it (and its public
# schema, where the API creates its tables). Created before any administrator, it would belong to
# a Microsoft-internal role and the API could not create tables.
resource "azurerm_postgresql_flexible_server_database" "this" {
  name      = var.database_name
  server_id = azurerm_postgresql_flexible_server.this.id
  charset   = "UTF8"
  collation = "en_US.utf8"

  depends_on = [azurerm_postgresql_flexible_server_active_directory_administrator.app]
}

# TLS on every connection, version 1.2 or later (the API also verifies the server certificate).
resource "azurerm_postgresql_flexible_server_configuration" "tls" {
  for_each = local.tls_settings

  name      = each.key
  server_id = azurerm_postgresql_flexible_server.this.id
  value     = each.value
}

# "Allow public access from any Azure service": the range 0.0.0.0-0.0.0.0 is Azure's marker for
# it. Network reach is not authorization: only tokens of the administrator identity sign in.
resource "azurerm_postgresql_flexible_server_firewall_rule" "azure_services" {
  #checkov:skip=CKV2_AZURE_26:Consumption Container Apps have no fixed outbound IP; sign-in needs the app identity's Entra token (password auth is off). Private access needs a VNet, see docs/deployment.md.

  name             = "allow-azure-services"
  server_id        = azurerm_postgresql_flexible_server.this.id
  start_ip_address = "0.0.0.0"
  end_ip_address   = "0.0.0.0"
}

# No admin user: images are pushed with the deployer's Entra token (`az acr login` / `az acr build`)
# and pulled by the Container App's managed identity (AcrPull), so no registry password exists.
resource "azurerm_container_registry" "this" {
  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = var.sku
  admin_enabled       = false

  tags = var.tags
}

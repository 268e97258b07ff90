# Secrets are authorised with Azure RBAC only: no access policy exists, so who may read or write a
# secret is visible (and auditable) as role assignments on the vault, granted by the root module.
#
# The checkov skips below all follow from reaching the vault over its public endpoint.
resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV_AZURE_109:The API's outbound IPs are not fixed without VNet integration, nor are a developer's; access is Entra ID + RBAC.
  #checkov:skip=CKV_AZURE_189:As above: no VNet in this deployment, so the public endpoint is the only path.
  #checkov:skip=CKV2_AZURE_32:A private endpoint needs a VNet-integrated Container Apps environment; listed under production hardening in docs/deployment.md.

  name                = var.name
  location            = var.location
  resource_group_name = var.resource_group_name
  tenant_id           = var.tenant_id
  sku_name            = var.sku_name

  rbac_authorization_enabled = true
  soft_delete_retention_days = var.soft_delete_retention_days
  purge_protection_enabled   = var.purge_protection_enabled

  # The API on Container Apps (consumption, no VNet) and the deployer's machine reach the vault over
  # the public endpoint; access is gated by Entra ID + RBAC rather than by network location.
  public_network_access_enabled = true

  tags = var.tags
}

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 introduced `rbac_authorization_enabled` on azurerm_key_vault (the pre-4.42 name is removed in 5.0).
      version = "~> 4.42"
    }
  }
}

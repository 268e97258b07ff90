variable "name" {
  type        = string
  description = "Globally unique name of the Key Vault."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "The Key Vault name must be 3-24 characters of letters, digits and hyphens, start with a letter, end with a letter or digit, and contain no consecutive hyphens."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the Key Vault."
}

variable "resource_group_name" {
  type        = string
  description = "Name of the resource group that holds the Key Vault."
}

variable "tenant_id" {
  type        = string
  description = "Entra ID tenant that authenticates requests to the vault."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.tenant_id))
    error_message = "The tenant_id must be a GUID such as 00000000-0000-0000-0000-000000000000."
  }
}

variable "sku_name" {
  type        = string
  default     = "standard"
  description = "Key Vault SKU: `standard` (software-protected keys) or `premium` (HSM-protected keys)."

  validation {
    condition     = contains(["standard", "premium"], var.sku_name)
    error_message = "The sku_name must be \"standard\" or \"premium\"."
  }
}

variable "soft_delete_retention_days" {
  type        = number
  default     = 7
  description = "Days a deleted vault or secret stays recoverable. Azure fixes this at creation time."

  validation {
    condition     = var.soft_delete_retention_days >= 7 && var.soft_delete_retention_days <= 90 && floor(var.soft_delete_retention_days) == var.soft_delete_retention_days
    error_message = "The soft_delete_retention_days must be a whole number between 7 and 90."
  }
}

variable "purge_protection_enabled" {
  type        = bool
  default     = true
  description = "Forbid purging deleted secrets and the vault until the retention period ends. Irreversible once enabled."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags applied to the Key Vault."
}

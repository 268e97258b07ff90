variable "name" {
  type        = string
  description = "Name of the Static Web App."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,38}[a-zA-Z0-9]$", var.name))
    error_message = "The Static Web App name must be 2-40 characters of letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "location" {
  type        = string
  description = "Region of the Static Web App's management plane (content is served from a global CDN)."

  validation {
    condition     = contains(["centralus", "eastus2", "eastasia", "westeurope", "westus2"], var.location)
    error_message = "Static Web Apps are available only in centralus, eastus2, eastasia, westeurope and westus2."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Name of the resource group that holds the Static Web App."
}

variable "sku_tier" {
  type        = string
  default     = "Free"
  description = "Static Web Apps plan: `Free` or `Standard` (custom auth, SLA, private endpoints)."

  validation {
    condition     = contains(["Free", "Standard"], var.sku_tier)
    error_message = "The sku_tier must be \"Free\" or \"Standard\"."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags applied to the Static Web App."
}

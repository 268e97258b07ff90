variable "name" {
  type        = string
  description = "Globally unique name of the container registry (becomes <name>.azurecr.io)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9]{5,50}$", var.name))
    error_message = "The registry name must be 5-50 letters or digits, with no hyphens or other characters."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the registry."
}

variable "resource_group_name" {
  type        = string
  description = "Name of the resource group that holds the registry."
}

variable "sku" {
  type        = string
  default     = "Basic"
  description = "Registry SKU. Basic is enough for one app; Premium adds private endpoints, geo-replication and content trust."

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.sku)
    error_message = "The sku must be one of \"Basic\", \"Standard\" or \"Premium\"."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags applied to the registry."
}

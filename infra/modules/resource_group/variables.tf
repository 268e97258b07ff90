variable "name" {
  type        = string
  description = "Name of the resource group."

  validation {
    condition     = can(regex("^[-\\w.()]{1,90}$", var.name)) && !endswith(var.name, ".")
    error_message = "The resource group name must be 1-90 characters of letters, digits, '-', '_', '.', '(' or ')', and must not end with '.'."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the resource group, as a lowercase region name such as `eastus2`."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "The location must be a lowercase Azure region name without spaces, such as \"eastus2\" or \"westeurope\"."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags applied to the resource group."
}

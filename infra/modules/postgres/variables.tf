variable "name" {
  type        = string
  description = "Globally unique name of the server (also the first label of its host name)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "The PostgreSQL server name must be 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit: set postgres_server_name (by default it is \"psql-\" and the Key Vault's name)."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the server."
}

variable "resource_group_name" {
  type        = string
  description = "Name of the resource group that holds the server."
}

variable "tenant_id" {
  type        = string
  description = "Entra ID tenant whose tokens the server accepts."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.tenant_id))
    error_message = "The tenant_id must be a GUID such as 00000000-0000-0000-0000-000000000000."
  }
}

variable "administrator_object_id" {
  type        = string
  description = "Object (principal) ID of the API's managed identity, made the server's Entra administrator."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.administrator_object_id))
    error_message = "The administrator_object_id must be an object ID (a GUID)."
  }
}

variable "administrator_name" {
  type        = string
  description = "Name of that identity (for a system-assigned identity, its app's name): the PostgreSQL role the API signs in as."

  validation {
    condition     = length(var.administrator_name) > 0 && length(var.administrator_name) <= 63
    error_message = "The administrator_name must be 1-63 characters: the API's Container App name."
  }
}

variable "database_name" {
  type        = string
  default     = "tasks"
  description = "Name of the API's database."

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database_name))
    error_message = "The database_name must be 1-63 lowercase letters, digits or underscores, not starting with a digit."
  }
}

variable "postgres_version" {
  type        = string
  default     = "16"
  description = "Major PostgreSQL version."

  validation {
    condition     = contains(["14", "15", "16"], var.postgres_version)
    error_message = "The postgres_version must be \"14\", \"15\" or \"16\"."
  }
}

variable "sku_name" {
  type        = string
  default     = "B_Standard_B1ms"
  description = "Compute SKU, tier_family_size: B_Standard_B1ms (Burstable, 1 vCore, 2 GiB, the cheapest) up to GP_/MO_ sizes."

  validation {
    condition     = can(regex("^(B|GP|MO)_Standard_[A-Za-z0-9_]+$", var.sku_name))
    error_message = "The sku_name must look like B_Standard_B1ms, GP_Standard_D2ds_v5 or MO_Standard_E2ds_v5."
  }
}

variable "storage_mb" {
  type        = number
  default     = 32768
  description = "Storage in MiB; 32768 (32 GiB) is the smallest. It can grow later, never shrink."

  validation {
    condition     = contains([32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216, 33553408], var.storage_mb)
    error_message = "The storage_mb must be one of Azure's sizes: 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216 or 33553408."
  }
}

variable "backup_retention_days" {
  type        = number
  default     = 7
  description = "Days of point-in-time restore (7-35); backups up to the provisioned storage size are free."

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "The backup_retention_days must be a whole number between 7 and 35."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags applied to the server."
}

variable "environment_name" {
  type        = string
  description = "Name of the Container Apps environment."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,58}[a-z0-9]$", var.environment_name)) && !strcontains(var.environment_name, "--")
    error_message = "The environment name must be 2-60 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "log_analytics_workspace_name" {
  type        = string
  description = "Name of the Log Analytics workspace that receives the environment's logs."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]$", var.log_analytics_workspace_name))
    error_message = "The workspace name must be 4-63 letters, digits or hyphens, starting and ending with a letter or digit."
  }
}

variable "log_retention_days" {
  type        = number
  default     = 30
  description = "Days Log Analytics keeps the logs (30 are included in the ingestion price)."

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "The log_retention_days must be a whole number between 30 and 730."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Name of the resource group that holds the environment and the app."
}

variable "location" {
  type        = string
  description = "Azure region of the environment and the app."
}

variable "backend_app_name" {
  type        = string
  description = "Name of the API's Container App (also the first label of its default host name)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.backend_app_name)) && !strcontains(var.backend_app_name, "--")
    error_message = "The backend_app_name must be 2-32 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "backend_image" {
  type        = string
  description = "Image the app is created with: a public placeholder, replaced by deploy.sh with the private image once the AcrPull grant exists. Later changes are ignored."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", var.backend_image))
    error_message = "The backend_image must be a fully qualified reference with a tag or digest, e.g. mcr.microsoft.com/k8se/quickstart:latest."
  }
}

variable "backend_cpu" {
  type        = number
  default     = 0.25
  description = "vCPUs per replica. Must pair with backend_memory (2Gi per vCPU)."

  validation {
    condition     = contains([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2], var.backend_cpu)
    error_message = "The backend_cpu must be one of 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75 or 2 (Consumption limits)."
  }
}

variable "backend_memory" {
  type        = string
  default     = "0.5Gi"
  description = "Memory per replica, twice the vCPU count in Gi (0.25 vCPU -> \"0.5Gi\")."

  validation {
    condition     = contains(["0.5Gi", "1Gi", "1.5Gi", "2Gi", "2.5Gi", "3Gi", "3.5Gi", "4Gi"], var.backend_memory)
    error_message = "The backend_memory must be one of \"0.5Gi\", \"1Gi\", \"1.5Gi\", \"2Gi\", \"2.5Gi\", \"3Gi\", \"3.5Gi\" or \"4Gi\"."
  }
}

variable "backend_min_replicas" {
  type        = number
  default     = 0
  description = "Replicas kept running when idle; 0 scales to zero (cold start on the next request, no cost while idle)."

  validation {
    condition     = var.backend_min_replicas >= 0 && var.backend_min_replicas <= 1000 && floor(var.backend_min_replicas) == var.backend_min_replicas
    error_message = "The backend_min_replicas must be a whole number between 0 and 1000."
  }
}

variable "backend_max_replicas" {
  type        = number
  default     = 1
  description = "Upper bound of replicas the HTTP scale rule may start."

  validation {
    condition     = var.backend_max_replicas >= 1 && var.backend_max_replicas <= 1000 && floor(var.backend_max_replicas) == var.backend_max_replicas
    error_message = "The backend_max_replicas must be a whole number between 1 and 1000."
  }
}

variable "backend_concurrent_requests" {
  type        = number
  default     = 50
  description = "Concurrent requests per replica above which the HTTP scale rule adds a replica."

  validation {
    condition     = var.backend_concurrent_requests >= 1 && floor(var.backend_concurrent_requests) == var.backend_concurrent_requests
    error_message = "The backend_concurrent_requests must be a whole number of at least 1."
  }
}

variable "key_vault_url" {
  type        = string
  description = "Vault URI the API reads its configuration from with its managed identity (AZURE_KEY_VAULT_URL)."

  validation {
    condition     = can(regex("^https://[a-zA-Z0-9-]+\\.vault\\.", var.key_vault_url))
    error_message = "The key_vault_url must be a Key Vault URI such as https://kv-name.vault.azure.net/."
  }
}

variable "allowed_origins" {
  type        = list(string)
  description = "Browser origins the API accepts cross-origin requests from (ALLOWED_ORIGINS)."

  validation {
    condition     = length(var.allowed_origins) > 0 && alltrue([for o in var.allowed_origins : can(regex("^https?://[^/,\\s]+$", o))])
    error_message = "Each allowed origin must be scheme://host[:port] with no path, comma or trailing slash, e.g. https://app.example.com."
  }
}

variable "acr_login_server" {
  type        = string
  description = "Registry host the app pulls private images from with its system-assigned identity."

  validation {
    condition     = can(regex("^[a-zA-Z0-9]+\\.azurecr\\.", var.acr_login_server))
    error_message = "The acr_login_server must be an Azure Container Registry host such as myregistry.azurecr.io."
  }
}

variable "database_url" {
  type        = string
  default     = null
  description = "PostgreSQL URL the API signs in to with its identity (no password), or null for the image's default SQLite file."

  validation {
    condition     = var.database_url == null || can(regex("^postgres://[^:@/]+@[^/]+/[a-z_][a-z0-9_]*\\?sslmode=verify-full$", var.database_url))
    error_message = "The database_url must be postgres://ROLE@HOST:5432/DATABASE?sslmode=verify-full, with no password, or null."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags applied to the workspace, the environment and the app."
}

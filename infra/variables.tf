# Variables passed straight to a module are validated there (the error names the module call and
# the rule); the ones used only here are validated here.

variable "subscription_id" {
  type        = string
  default     = null
  description = "Subscription to deploy into. Null uses ARM_SUBSCRIPTION_ID from the environment."

  validation {
    condition     = var.subscription_id == null || can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "The subscription_id must be a GUID such as 00000000-0000-0000-0000-000000000000, or null."
  }
}

variable "resource_group_name" {
  type        = string
  default     = "rg-entra-rbac"
  description = "Name of the resource group that holds every resource (1-90 characters)."
}

variable "location" {
  type        = string
  default     = "eastus2"
  description = "Azure region of every resource except the Static Web App (see static_web_app_location)."
}

variable "tags" {
  type        = map(string)
  default     = { project = "entra-rbac-reference", "managed-by" = "terraform" }
  description = "Tags applied to every resource."
}

variable "deployer_object_id" {
  type        = string
  default     = null
  description = "Object ID granted Key Vault Secrets Officer so that deploy.sh can seed secrets. Null grants the identity running Terraform."

  validation {
    condition     = var.deployer_object_id == null || can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.deployer_object_id))
    error_message = "The deployer_object_id must be an object ID (a GUID), or null for the identity running Terraform."
  }
}

variable "key_vault_name" {
  type        = string
  description = "Globally unique Key Vault name: 3-24 letters, digits and single hyphens, starting with a letter."
}

variable "key_vault_soft_delete_retention_days" {
  type        = number
  default     = 7
  description = "Days a deleted vault or secret stays recoverable (7-90, fixed at creation)."
}

variable "key_vault_purge_protection_enabled" {
  type        = bool
  default     = true
  description = "Forbid purging the vault and its secrets before the retention period ends (irreversible). With it, a destroyed vault's name stays reserved for the retention period and the next apply recovers the vault; set false for throw-away test deployments."
}

variable "acr_name" {
  type        = string
  description = "Globally unique container registry name: 5-50 letters or digits."
}

variable "acr_sku" {
  type        = string
  default     = "Basic"
  description = "Container registry SKU: Basic, Standard or Premium."
}

variable "container_apps_env_name" {
  type        = string
  default     = "cae-entra-rbac"
  description = "Name of the Container Apps environment."
}

variable "log_analytics_workspace_name" {
  type        = string
  default     = "log-entra-rbac"
  description = "Name of the Log Analytics workspace behind the Container Apps environment."
}

variable "log_retention_days" {
  type        = number
  default     = 30
  description = "Days Log Analytics keeps the API's logs (30-730)."
}

variable "backend_app_name" {
  type        = string
  default     = "ca-entra-rbac-api"
  description = "Name of the API's Container App: 2-32 lowercase letters, digits and hyphens."
}

variable "backend_image_name" {
  type        = string
  default     = "entra-rbac-api"
  description = "Repository of the API image in the registry; deploy.sh pushes <acr>/<name>:<git commit>."

  validation {
    condition     = can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", var.backend_image_name))
    error_message = "The backend_image_name must be a lowercase repository path such as \"entra-rbac-api\" (letters, digits, '.', '_', '-', '/'; no tag)."
  }
}

variable "backend_placeholder_image" {
  type        = string
  default     = "mcr.microsoft.com/k8se/quickstart:latest"
  description = "Public image the Container App is created with, before its identity can pull from the registry. deploy.sh replaces it; until then the app's probes on port 8000 fail, which is expected."
}

variable "backend_cpu" {
  type        = number
  default     = 0.25
  description = "vCPUs per API replica: 0.25 to 2 in steps of 0.25, paired with backend_memory."
}

variable "backend_memory" {
  type        = string
  default     = "0.5Gi"
  description = "Memory per API replica: twice the vCPUs in Gi (0.25 -> \"0.5Gi\", 1 -> \"2Gi\")."
}

variable "backend_min_replicas" {
  type        = number
  default     = 0
  description = "API replicas kept when idle (>= 0); 0 scales to zero."
}

variable "backend_max_replicas" {
  type        = number
  default     = 1
  description = "Most API replicas the HTTP scale rule may run (>= 1 and >= backend_min_replicas)."
}

variable "backend_concurrent_requests" {
  type        = number
  default     = 50
  description = "Concurrent requests per API replica above which another replica starts."
}

variable "static_web_app_name" {
  type        = string
  default     = "swa-entra-rbac"
  description = "Name of the Static Web App that serves the SPA."
}

variable "static_web_app_location" {
  type        = string
  default     = "eastus2"
  description = "Region of the Static Web App: centralus, eastus2, eastasia, westeurope or westus2."
}

variable "postgres_enabled" {
  type        = bool
  default     = true
  description = "Keep tasks in Azure Database for PostgreSQL (Flexible Server, Entra ID sign-in only, about $16/month), so they survive scale to zero and redeploys. false: the API's SQLite file inside the container, lost whenever the replica stops (every scale to zero, every new revision); for throw-away deployments only."
}

variable "postgres_server_name" {
  type        = string
  default     = null
  description = "Globally unique PostgreSQL server name (3-63 lowercase letters, digits, hyphens). Null: \"psql-\" followed by the Key Vault's name, lowercased (unique as the vault's name is)."
}

variable "postgres_sku_name" {
  type        = string
  default     = "B_Standard_B1ms"
  description = "PostgreSQL compute SKU; the default Burstable B1ms (1 vCore, 2 GiB) is the cheapest."
}

resource "azurerm_log_analytics_workspace" "this" {
  name                = var.log_analytics_workspace_name
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days

  tags = var.tags
}

resource "azurerm_container_app_environment" "this" {
  name                       = var.environment_name
  location                   = var.location
  resource_group_name        = var.resource_group_name
  logs_destination           = "log-analytics"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  tags = var.tags
}

resource "azurerm_container_app" "this" {
  name                         = var.backend_app_name
  container_app_environment_id = azurerm_container_app_environment.this.id
  resource_group_name          = var.resource_group_name
  revision_mode                = "Single"

  # One identity for everything the API touches in Azure: Key Vault secrets (Secrets User) and
  # image pulls (AcrPull). Both grants live in the root module, scoped to those resources.
  identity {
    type = "SystemAssigned"
  }

  # Pull with the managed identity: no username, no password secret.
  registry {
    server   = var.acr_login_server
    identity = "System"
  }

  ingress {
    external_enabled           = true
    target_port                = local.backend_port
    transport                  = "auto"
    allow_insecure_connections = false

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    min_replicas = var.backend_min_replicas
    max_replicas = var.backend_max_replicas

    http_scale_rule {
      name                = "http-concurrency"
      concurrent_requests = tostring(var.backend_concurrent_requests)
    }

    container {
      name   = "api"
      image  = var.backend_image
      cpu    = var.backend_cpu
      memory = var.backend_memory

      env {
        name  = "AZURE_KEY_VAULT_URL"
        value = var.key_vault_url
      }

      env {
        name  = "ALLOWED_ORIGINS"
        value = join(",", var.allowed_origins)
      }

      env {
        name  = "LOG_FORMAT"
        value = "json"
      }

      # PostgreSQL signed in to with the app's identity (DATABASE_AUTH=entra): a URL without a
      # password. Without it the image's default SQLite file is used, which a replica loses when
      # it stops.
      dynamic "env" {
        for_each = var.database_url == null ? {} : {
          DATABASE_URL  = var.database_url
          DATABASE_AUTH = "entra"
        }

        content {
          name  = env.key
          value = env.value
        }
      }

      liveness_probe {
        transport = "HTTP"
        port      = local.backend_port
        path      = "/health"
      }

      readiness_probe {
        transport = "HTTP"
        port      = local.backend_port
        path      = "/ready"
      }
    }
  }

  tags = var.tags

  lifecycle {
    # The identity that pulls from the registry exists only once this app does, so the app is
    # created from a public placeholder image; deploy.sh then switches it to the private image,
    # after the AcrPull grant exists. Re-applying must not switch it back.
    ignore_changes = [template[0].container[0].image]

    precondition {
      condition     = lookup(local.memory_for_cpu, tostring(var.backend_cpu), "") == var.backend_memory
      error_message = "backend_cpu = ${var.backend_cpu} needs backend_memory = \"${lookup(local.memory_for_cpu, tostring(var.backend_cpu), "?")}\" on a Consumption environment (memory is always 2Gi per vCPU: 0.25/0.5Gi, 0.5/1Gi, ... 2/4Gi)."
    }

    precondition {
      condition     = var.backend_min_replicas <= var.backend_max_replicas
      error_message = "backend_min_replicas (${var.backend_min_replicas}) must not exceed backend_max_replicas (${var.backend_max_replicas})."
    }
  }
}

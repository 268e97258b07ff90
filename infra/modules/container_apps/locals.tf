locals {
  # The API's port: ingress target and both probes (CONTRACTS.md: PORT defaults to 8000).
  backend_port = 8000

  # vCPU -> memory pairs a Consumption-only environment accepts (keys are tostring(cpu)).
  memory_for_cpu = {
    "0.25" = "0.5Gi"
    "0.5"  = "1Gi"
    "0.75" = "1.5Gi"
    "1"    = "2Gi"
    "1.25" = "2.5Gi"
    "1.5"  = "3Gi"
    "1.75" = "3.5Gi"
    "2"    = "4Gi"
  }
}

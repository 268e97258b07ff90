locals {
  # Server parameters that enforce TLS; both are Azure's defaults today, set here so that a
  # portal change shows up as drift.
  tls_settings = {
    require_secure_transport = "on"
    ssl_min_protocol_version = "TLSv1.2"
  }
}

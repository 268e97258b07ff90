//! The shapes a configured URL may have, as plain functions: each settings module names the
//! variable, these say what is wrong with its value. (GUIDs and loopback hosts: `shared`, which
//! the SPA checks its configuration with too.)

use reqwest::Url;

/// Key Vault DNS suffixes: public cloud, Azure China, Azure US Government. The SDK's challenge
/// check needs the vault's host under the audience Key Vault names, so other hosts would only
/// fail later, with a vaguer error.
const KEY_VAULT_DNS_SUFFIXES: [&str; 3] = [
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
];

/// Whether an endpoint may be trusted to serve keys: https, or http to this machine (the local
/// identity provider, tests).
pub fn is_secure_endpoint(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => shared::is_loopback_host(url.host_str().unwrap_or_default()),
        _ => false,
    }
}

/// An identity provider's host: scheme and host (and port) only, https unless loopback.
pub fn authority_host(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| e.to_string())?;
    if !is_secure_endpoint(&url) {
        return Err("must be https (http only for a loopback address)".into());
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(
            "expected only a scheme and host, like https://login.microsoftonline.com".into(),
        );
    }
    Ok(url)
}

/// A Key Vault URI, `https://{vault}.vault.azure.net` (or a sovereign cloud's suffix), as
/// Terraform's `vault_uri` writes it; normalised to end in `/`.
pub fn key_vault_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| e.to_string())?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let vault_name = KEY_VAULT_DNS_SUFFIXES
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix));
    let name_ok = vault_name.is_some_and(|name| {
        (3..=24).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let shape_ok = url.scheme() == "https"
        && url.port().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !(name_ok && shape_ok) {
        return Err("expected a vault URI like https://my-vault.vault.azure.net/ (terraform output key_vault_uri)".into());
    }
    Ok(url)
}

/// A browser origin, `scheme://host[:port]` exactly as a browser sends it in `Origin`. `*` is
/// refused: any site could then call the API with its users' tokens.
pub fn origin(value: &str) -> Result<(), String> {
    if value == "*" {
        return Err("`*` would let any site call the API with its users' tokens: list the exact origins, like https://app.example.com".into());
    }
    let url = Url::parse(value).map_err(|e| e.to_string())?;
    let is_origin = matches!(url.scheme(), "http" | "https")
        && url.path() == "/"
        && !value.ends_with('/')
        && url.query().is_none()
        && url.username().is_empty();
    if !is_origin {
        return Err(
            "expected origins like https://app.example.com (no path, no trailing slash)".into(),
        );
    }
    Ok(())
}

/// `scheme://user:password@host` with the password replaced, so an error can echo the URL.
pub fn redact_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        // Unparsable: keep only what follows a possible `user:password@`.
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("…@{host}"),
            None => url.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        for good in [
            "https://login.microsoftonline.com/x",
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:1/",
        ] {
            assert!(
                is_secure_endpoint(&Url::parse(good).expect("url")),
                "{good}"
            );
        }
        for bad in [
            "http://example.com/",
            "ftp://localhost/",
            "http://10.0.0.1/",
        ] {
            assert!(!is_secure_endpoint(&Url::parse(bad).expect("url")), "{bad}");
        }
    }

    #[test]
    fn passwords_never_survive_redaction() {
        for url in ["postgres://u:hunter2@db.example/t", "not a url u:hunter2@x"] {
            let shown = redact_password(url);
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(redact_password("sqlite://a.db"), "sqlite://a.db");
    }
}

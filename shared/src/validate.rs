//! Format rules both sides apply to configuration values: Entra ids and hosts where plain `http`
//! is acceptable. The API checks its environment with them, the SPA its `config.json`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `value` is a GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either
/// case: the form of every Entra tenant, application and object id.
pub fn is_guid(value: &str) -> bool {
    let mut groups = value.split('-');
    [8, 4, 4, 4, 12].iter().all(|&len| {
        groups
            .next()
            .is_some_and(|group| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
    }) && groups.next().is_none()
}

/// `value` as a lowercase GUID, if it is one: Entra writes `tid` and `aud` in lowercase, so ids
/// compared with token claims are kept that way.
pub fn normalize_guid(value: &str) -> Option<String> {
    is_guid(value).then(|| value.to_ascii_lowercase())
}

/// Whether a URL's host names this machine, where plain `http` is acceptable (local development,
/// tests): `localhost`, an IPv4 address in 127.0.0.0/8, or `[::1]` (IPv6 in brackets, as in a
/// URL). Names under `.localhost` and unbracketed IPv6 are not hosts of this kind.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        let id = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
        assert!(is_guid(id));
        assert_eq!(
            normalize_guid(id).as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        for bad in [
            "",
            "contoso.onmicrosoft.com",
            "11111111-2222-3333-4444-55555555555",
            "11111111-2222-3333-4444-55555555555g",
            "111111112222-3333-4444-555555555555",
            "11111111-2222-3333-4444-555555555555-",
            "11111111-2222-3333-4444-555555555555-6",
            "{11111111-2222-3333-4444-555555555555}",
            " 11111111-2222-3333-4444-555555555555",
        ] {
            assert!(!is_guid(bad), "{bad:?}");
            assert_eq!(normalize_guid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "example.com",
            "localhost.example.com",
            "app.localhost",
            "0.0.0.0",
            "10.0.0.1",
            "::1",
            "[::2]",
            "[::ffff:127.0.0.1]",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}

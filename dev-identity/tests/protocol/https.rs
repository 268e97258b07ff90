//! HTTPS with the local CA, and a public URL behind a reverse proxy: what every published URL
//! then names.

use std::time::Duration;

use dev_identity::{Provider, RunningProvider};
use reqwest::{StatusCode, header};

use crate::helpers::*;

/// A client that trusts the provider's CA only.
fn trusting(provider: &RunningProvider) -> reqwest::Client {
    let pem = std::fs::read(provider.ca_certificate().expect("a CA")).expect("ca.pem");
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn https_publishes_https_urls_with_a_ca_kept_in_the_data_folder() {
    let data = std::env::temp_dir().join(format!("dev-identity-https-{}", std::process::id()));
    let provider = Provider::builder()
        .https(&data)
        .spawn()
        .await
        .expect("starts with HTTPS");
    assert!(provider.ca_created());
    let ca = provider.ca_certificate().expect("a CA").to_owned();
    assert!(ca.starts_with(&data), "{}", ca.display());
    let authority = provider.authority().to_owned();
    assert!(authority.starts_with("https://127.0.0.1:"), "{authority}");
    assert_eq!(
        provider.api_environment()[0].1,
        provider.base_url(),
        "AZURE_AUTHORITY_HOST is the https base"
    );

    let http = trusting(&provider);
    let metadata: serde_json::Value = http
        .get(format!("{authority}/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .expect("TLS with the CA")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["issuer"], format!("{authority}/v2.0"));
    for endpoint in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
        assert!(
            metadata[endpoint]
                .as_str()
                .is_some_and(|url| url.starts_with(&authority)),
            "{endpoint}: {metadata}"
        );
    }
    // `localhost` is in the certificate too.
    let by_name = authority.replace("127.0.0.1", "localhost");
    let keys = http
        .get(format!("{by_name}/discovery/v2.0/keys"))
        .send()
        .await
        .expect("TLS for localhost");
    assert_eq!(keys.status(), StatusCode::OK);

    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .expect("client");
    assert!(
        untrusting
            .get(format!("{authority}/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .is_err(),
        "a client that does not trust the CA is refused"
    );

    let signed_in = http
        .get(format!("{authority}/oauth2/v2.0/authorize"))
        .query(
            &Authorize::spa_for(&provider)
                .set("login_hint", "admin")
                .params
                .0,
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(signed_in.status(), StatusCode::FOUND);
    let cookie = signed_in.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    provider.shutdown().await.expect("stops");

    let again = Provider::builder()
        .https(&data)
        .spawn()
        .await
        .expect("starts again");
    assert!(!again.ca_created(), "the CA is kept");
    assert_eq!(again.ca_certificate(), Some(ca.as_path()));
    let metadata = trusting(&again)
        .get(format!(
            "{}/v2.0/.well-known/openid-configuration",
            again.authority()
        ))
        .send()
        .await
        .expect("the new server certificate chains to the kept CA");
    assert_eq!(metadata.status(), StatusCode::OK);
    again.shutdown().await.expect("stops");
    std::fs::remove_dir_all(&data).expect("clean up");
}

#[tokio::test]
async fn behind_a_proxy_the_public_url_names_every_address_and_issuer() {
    let public = "https://login.dev.example:8443";
    let harness =
        Harness::with(Provider::builder().public_url(public.parse().expect("valid"))).await;
    let tenant = harness.provider.tenant_id();
    assert_eq!(harness.provider.base_url(), public);
    let direct = format!("http://{}/{tenant}", harness.provider.local_addr());
    let metadata = harness
        .get_json(&format!("{direct}/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(metadata["issuer"], format!("{public}/{tenant}/v2.0"));
    assert_eq!(
        metadata["token_endpoint"],
        format!("{public}/{tenant}/oauth2/v2.0/token")
    );
    // Tokens carry the public issuer too (signed in directly, as the proxy would forward).
    let request = Authorize::spa(&harness).set("login_hint", "reader");
    let response = harness
        .http
        .get(format!("{direct}/oauth2/v2.0/authorize"))
        .query(&request.params.0)
        .send()
        .await
        .expect("answers");
    let sign_in = SignIn::from_redirect(&response, request.pkce.verifier);
    let body: serde_json::Value = harness
        .http
        .post(format!("{direct}/oauth2/v2.0/token"))
        .header(header::ORIGIN, SPA_ORIGIN)
        .form(&harness.redemption(&sign_in).0)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let access = claims(body["access_token"].as_str().expect("at"));
    assert_eq!(access["iss"], format!("{public}/{tenant}/"));
}

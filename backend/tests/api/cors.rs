//! CORS: only the configured origins get a grant, for the methods and headers the SPA uses.

use reqwest::Method;

use crate::helpers::TestApp;

const SPA: &str = "https://app.contoso.example";

async fn app() -> TestApp {
    TestApp::builder()
        .var("ALLOWED_ORIGINS", &format!("{SPA},http://localhost:8080"))
        .start()
        .await
}

#[tokio::test]
async fn preflight_grants_the_allowed_origin_only() {
    let app = app().await;
    let preflight = |origin: &str| {
        app.request(Method::OPTIONS, "/api/tasks/1")
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
    };
    let granted = app.read(preflight(SPA)).await;
    assert_eq!(granted.status, 200);
    assert_eq!(granted.header("access-control-allow-origin"), Some(SPA));
    let methods = granted
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_owned();
    for method in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert!(!methods.contains("PUT"), "{methods}");
    let headers = granted
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(
        granted.header("access-control-allow-credentials"),
        None,
        "bearer tokens need no cookies"
    );

    let refused = app.read(preflight("https://evil.example")).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let lookalike = app
        .read(preflight("https://app.contoso.example.evil.example"))
        .await;
    assert_eq!(lookalike.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn simple_requests_carry_the_grant_for_allowed_origins_only() {
    let app = app().await;
    let token = app.token("reader", &["Reader"]);
    for (origin, grant) in [
        (SPA, Some(SPA)),
        ("http://localhost:8080", Some("http://localhost:8080")),
        ("http://localhost:3000", None),
    ] {
        let request = app
            .request(Method::GET, "/api/tasks")
            .bearer_auth(&token)
            .header("origin", origin);
        let reply = app.read(request).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            grant,
            "{origin}"
        );
    }
}

//! The few HTML pages a person sees: pick a test user, an error, signed out.
//!
//! Server-rendered, no script, every interpolated value escaped; a strict Content-Security-Policy
//! and no framing, so the pages cannot be embedded to trick a click.

use aws_lc_rs::digest;
use axum::{
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use url::Url;

use crate::users::User;

/// The `form_post` page's only script: submit the form at once, as Entra's page does.
const SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
.dev{background:#fff4ce;border:1px solid #c19c00;padding:.5rem .75rem;border-radius:4px}\
ul{list-style:none;padding:0}li{margin:.5rem 0}\
button{width:100%;text-align:left;padding:.75rem 1rem;font:inherit;border:1px solid #8a8886;border-radius:4px;background:#fff;cursor:pointer}\
button:hover{background:#f3f2f1}button:focus-visible{outline:3px solid #0f6cbd;outline-offset:2px}\
.name{display:block;font-weight:600}.username,.roles{display:block;color:#444;font-size:.9rem}\
.error{border-left:4px solid #a4262c;padding-left:.75rem;white-space:pre-wrap;word-break:break-word}";

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// A complete page. `form_action` is the CSP `form-action` source list: the sign-in form posts to
/// this provider, which then redirects to the app, and browsers check that redirect against it
/// too. `script`, if any, is the page's one inline script, allowed by its hash and nothing else.
fn page(
    status: StatusCode,
    title: &str,
    body: &str,
    form_action: &str,
    script: Option<&str>,
) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · dev-identity</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <p class=\"dev\" role=\"note\"><strong>Development only.</strong> A local stand-in for \
         Microsoft Entra ID with made-up test users. Never use it for anything real.</p>\n\
         <h1>{title}</h1>\n{body}</main>\n{script}</body>\n</html>\n",
        title = escape(title),
        script = script.map_or(String::new(), |script| format!(
            "<script>{script}</script>\n"
        )),
    );
    let script_src = script.map_or(String::new(), |script| {
        let hash = STANDARD.encode(digest::digest(&digest::SHA256, script.as_bytes()));
        format!("script-src 'sha256-{hash}'; ")
    });
    let csp = format!(
        "default-src 'none'; {script_src}style-src 'unsafe-inline'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The user picker: one button per user, showing display name, user name and roles. The form
/// posts here, and the answer then redirects to `redirect_origin`.
pub(crate) fn sign_in<'a>(
    login_url: &str,
    request_id: &str,
    users: impl Iterator<Item = &'a User>,
    notice: Option<&str>,
    redirect_origin: &str,
) -> Response {
    let mut body = String::new();
    if let Some(notice) = notice {
        body.push_str(&format!("<p role=\"alert\">{}</p>\n", escape(notice)));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"request\" value=\"{}\">\n<ul>\n",
        escape(login_url),
        escape(request_id)
    ));
    for user in users {
        let roles = if user.roles().is_empty() {
            "No app role".to_owned()
        } else {
            let names: Vec<&str> = user.roles().iter().map(|role| role.as_str()).collect();
            format!("Roles: {}", names.join(", "))
        };
        body.push_str(&format!(
            "<li><button type=\"submit\" name=\"user\" value=\"{name}\">\
             <span class=\"name\">{display}</span> <span class=\"username\">{username}</span> \
             <span class=\"roles\">{roles}</span></button></li>\n",
            name = escape(user.name()),
            display = escape(user.display_name()),
            username = escape(user.username()),
            roles = escape(&roles),
        ));
    }
    body.push_str("</ul>\n</form>\n");
    let form_action = format!("'self' {redirect_origin}");
    page(
        StatusCode::OK,
        "Pick a test user",
        &body,
        &form_action,
        None,
    )
}

/// `response_mode=form_post`: a page whose script posts `fields` to the app's redirect URI at
/// once (a button does it when scripts are off), so the code never appears in a URL.
pub(crate) fn form_post(action: &Url, fields: &[(&str, String)]) -> Response {
    let mut body = format!(
        "<form method=\"post\" action=\"{}\">\n",
        escape(action.as_str())
    );
    for (name, value) in fields {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    body.push_str(
        "<p>Returning to the app…</p>\n<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n",
    );
    let origin = action.origin().ascii_serialization();
    page(
        StatusCode::OK,
        "Signing you in",
        &body,
        &origin,
        Some(SUBMIT_SCRIPT),
    )
}

/// A refused sign-in, with the OAuth error and Entra-style description.
pub(crate) fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = format!(
        "<p>The sign-in request was refused: <code>{}</code></p>\n<p class=\"error\">{}</p>\n",
        escape(code),
        escape(description)
    );
    page(status, "Sign-in error", &body, "'none'", None)
}

/// Shown after sign-out when the app gave no (registered) address to return to.
pub(crate) fn signed_out() -> Response {
    page(
        StatusCode::OK,
        "You have signed out",
        "<p>You may close this window.</p>\n",
        "'none'",
        None,
    )
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    #[tokio::test]
    async fn the_form_post_page_posts_escaped_fields_and_allows_only_its_own_script() {
        let action = Url::parse("http://localhost:53117/").expect("url");
        let page = form_post(
            &action,
            &[("code", "a\"b".to_owned()), ("state", "<s>".to_owned())],
        );
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii")
            .to_owned();
        let hash = STANDARD.encode(digest::digest(&digest::SHA256, SUBMIT_SCRIPT.as_bytes()));
        assert!(
            csp.contains(&format!("script-src 'sha256-{hash}'")),
            "{csp}"
        );
        assert!(csp.contains("form-action http://localhost:53117;"), "{csp}");
        let html = to_bytes(page.into_body(), 1 << 16).await.expect("body");
        let html = String::from_utf8(html.to_vec()).expect("utf-8");
        assert!(html.contains("<form method=\"post\" action=\"http://localhost:53117/\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"code\" value=\"a&quot;b\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"state\" value=\"&lt;s&gt;\">"));
        assert!(html.contains(&format!("<script>{SUBMIT_SCRIPT}</script>")));
    }

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}

// Microsoft's MSAL for Node (@azure/msal-node, a released version from npm) signs in against
// dev-identity over HTTPS, as a desktop or CLI app registered as a public client would.
// Run by msal.rs, which starts dev-identity and the API, checks what this prints (one JSON
// document on stdout) and calls the API with the tokens. Nothing but loopback is reached.
//
// Inputs (environment): AUTHORITY (https), CLIENT_ID (the public client), API_SCOPE, USERS
// (comma-separated login hints), MAX_AGE (seconds); NODE_EXTRA_CA_CERTS trusts dev-identity's CA
// and NODE_PATH finds @azure/msal-node.
"use strict";

const crypto = require("node:crypto");
const msal = require("@azure/msal-node");

const { AUTHORITY, CLIENT_ID, API_SCOPE, USERS, MAX_AGE } = process.env;
// Any port: a loopback redirect URI matches the registered http://localhost whatever its port
// (RFC 8252 section 7.3), as at Entra.
const REDIRECT_URI = "http://localhost:38517";

function app() {
    return new msal.PublicClientApplication({
        auth: {
            clientId: CLIENT_ID,
            authority: AUTHORITY,
            // A host MSAL does not know as Microsoft's: trust its own discovery document instead
            // of asking login.microsoftonline.com's instance discovery (unreachable here).
            knownAuthorities: [new URL(AUTHORITY).host],
        },
        system: {
            loggerOptions: {
                logLevel: msal.LogLevel.Warning,
                piiLoggingEnabled: false,
                loggerCallback: (_level, message) => process.stderr.write(`msal: ${message}\n`),
            },
        },
    });
}

// The browser's part: follow the sign-in to the app, and return the answer's parameters. A 302
// carries them in its Location (query mode); a 200 page is form_post: submit its form, as the
// page's script would.
async function browse(url) {
    const response = await fetch(url, { redirect: "manual" });
    if (response.status === 302) {
        return new URL(response.headers.get("location")).searchParams;
    }
    const page = await response.text();
    if (response.status !== 200) {
        throw new Error(`the authorization endpoint answered ${response.status}: ${page}`);
    }
    const form = /<form method="post" action="([^"]*)"/.exec(page);
    if (!form) {
        throw new Error(`no form_post form on the page: ${page}`);
    }
    const fields = new URLSearchParams();
    for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
        fields.append(unescape(name), unescape(value));
    }
    const posted = await fetch(unescape(form[1]), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: fields.toString(),
    });
    if (!posted.ok) {
        throw new Error(`the app's redirect URI answered ${posted.status}: ${await posted.text()}`);
    }
    return fields;
}

function unescape(text) {
    return text
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&amp;/g, "&");
}

// What a sign-in gave: the tokens, the account MSAL built (from client_info) and the ID token's
// claims MSAL accepted (nonce checked by MSAL, auth_time checked here against max_age: MSAL 5+
// leaves that to the app).
function summary(result, maxAge) {
    const claims = result.idTokenClaims;
    const now = Math.floor(Date.now() / 1000);
    if (maxAge !== undefined) {
        if (typeof claims.auth_time !== "number") {
            throw new Error(`the ID token has no auth_time: ${JSON.stringify(claims)}`);
        }
        if (now - claims.auth_time > maxAge) {
            throw new Error(`auth_time ${claims.auth_time} is older than max_age ${maxAge}`);
        }
    }
    return {
        access_token: result.accessToken,
        id_token_claims: claims,
        scopes: result.scopes,
        home_account_id: result.account.homeAccountId,
        username: result.account.username,
        tenant_id: result.account.tenantId,
    };
}

// Authorization code + PKCE with login_hint, the way a web or CLI app drives MSAL by hand.
async function codeFlow(client, user, scopes, maxAge) {
    const { verifier, challenge } = await new msal.CryptoProvider().generatePkceCodes();
    const state = crypto.randomUUID();
    const nonce = crypto.randomUUID();
    const url = await client.getAuthCodeUrl({
        scopes,
        redirectUri: REDIRECT_URI,
        codeChallenge: challenge,
        codeChallengeMethod: "S256",
        loginHint: user,
        state,
        nonce,
        extraQueryParameters: { max_age: String(maxAge) },
    });
    const answer = await browse(url);
    if (answer.get("error")) {
        throw new Error(`sign-in refused: ${answer.get("error")}: ${answer.get("error_description")}`);
    }
    if (!answer.get("session_state")) {
        throw new Error(`no session_state in the answer: ${answer}`);
    }
    const result = await client.acquireTokenByCode(
        {
            code: answer.get("code"),
            scopes,
            redirectUri: REDIRECT_URI,
            codeVerifier: verifier,
            clientInfo: answer.get("client_info"),
            state,
            nonce,
        },
        { code: answer.get("code"), state: answer.get("state") },
    );
    return { result, client_info: answer.get("client_info") };
}

async function main() {
    const maxAge = Number(MAX_AGE);
    const scopes = [API_SCOPE];
    const report = { users: {}, interactive: null, sign_in_only: null };
    for (const user of USERS.split(",")) {
        const client = app();
        const { result, client_info } = await codeFlow(client, user, scopes, maxAge);
        const signedIn = summary(result, maxAge);
        // Silent renewal: MSAL finds the account in its cache and redeems the refresh token.
        const renewed = await client.acquireTokenSilent({
            account: result.account,
            scopes,
            forceRefresh: true,
        });
        report.users[user] = {
            ...signedIn,
            client_info,
            renewed: summary(renewed),
            cached_accounts: (await client.getTokenCache().getAllAccounts()).length,
        };
    }

    // A desktop app's interactive sign-in: MSAL listens on a free loopback port and asks for a
    // form_post answer; `browse` plays the browser. What MSAL asked for is reported, to be checked.
    const desktop = app();
    let asked = null;
    const interactive = await desktop.acquireTokenInteractive({
        scopes,
        loginHint: "editor",
        extraQueryParameters: { max_age: String(maxAge) },
        openBrowser: async (url) => {
            asked = new URL(url).searchParams;
            await browse(url);
        },
        successTemplate: "Signed in.",
        errorTemplate: "Sign-in failed.",
    });
    report.interactive = {
        ...summary(interactive, maxAge),
        redirect_uri: asked.get("redirect_uri"),
        response_mode: asked.get("response_mode"),
    };

    // Sign-in only (MSAL's default scopes: openid profile offline_access), then a token for the
    // API silently, from the same refresh token.
    const signInOnly = app();
    const { result: idOnly } = await codeFlow(signInOnly, "reader", [], maxAge);
    const apiLater = await signInOnly.acquireTokenSilent({ account: idOnly.account, scopes });
    report.sign_in_only = { signed_in: summary(idOnly, maxAge), api: summary(apiLater) };

    process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
    process.stderr.write(`msal.cjs: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
});

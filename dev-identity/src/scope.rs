//! The `scope` parameter: which tokens a request asks for, and whether this provider can issue
//! them.
//!
//! The provider knows one resource, the API, whose one delegated permission is `access_as_user`
//! (its `.default` scope means the same). Anything addressed to another resource (Microsoft Graph
//! included) is refused by name rather than silently dropped, so a SPA that would fail against Entra
//! for the same request fails here too, with the reason. A request without the API's permission
//! only signs the user in (`openid`), as at Entra: its access token is addressed to Microsoft
//! Graph's `User.Read`, the default Entra gives it, which nothing here accepts.

use uuid::Uuid;

use crate::error::Error;

const MAX_SCOPES: usize = 16;
const API_PERMISSION: &str = shared::API_SCOPE;
/// What the access token of a sign-in-only request is for, as Entra names it in `scope`.
pub(crate) const GRAPH_USER_READ: &str = "https://graph.microsoft.com/User.Read";

/// What a request is granted: an access token for the API (or, for a sign-in only, for Graph),
/// plus the OpenID Connect extras it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scopes {
    /// The API's permission; without it the access token is Graph's.
    api: bool,
    /// An ID token.
    openid: bool,
    /// `name` and `preferred_username` in the ID token (this provider always includes them).
    profile: bool,
    /// An `email` claim in the ID token.
    email: bool,
    /// A refresh token.
    offline_access: bool,
}

impl Scopes {
    pub(crate) fn parse(raw: &str, api: Uuid) -> Result<Self, Error> {
        let requested: Vec<&str> = raw.split_ascii_whitespace().collect();
        if requested.is_empty() {
            return Err(Error::MissingParameter("scope"));
        }
        if requested.len() > MAX_SCOPES {
            return Err(Error::InvalidScope(format!(
                "More than {MAX_SCOPES} scopes were requested."
            )));
        }
        let mut scopes = Scopes {
            api: false,
            openid: false,
            profile: false,
            email: false,
            offline_access: false,
        };
        for scope in requested {
            match scope.to_ascii_lowercase().as_str() {
                "openid" => scopes.openid = true,
                "profile" => scopes.profile = true,
                "email" => scopes.email = true,
                "offline_access" => scopes.offline_access = true,
                _ => {
                    check_api_scope(scope, api)?;
                    scopes.api = true;
                }
            }
        }
        if !scopes.api && !scopes.openid {
            return Err(Error::InvalidScope(format!(
                "Request openid to sign the user in, or the API's permission api://{api}/{API_PERMISSION} for a token for it."
            )));
        }
        Ok(scopes)
    }

    /// Whether the access token is for the API (else it is Graph's: a sign-in only).
    pub(crate) fn api(self) -> bool {
        self.api
    }

    pub(crate) fn id_token(self) -> bool {
        self.openid
    }

    pub(crate) fn email(self) -> bool {
        self.email
    }

    pub(crate) fn refresh_token(self) -> bool {
        self.offline_access
    }

    /// What a refresh of a grant of `self` issues when it asks for `requested`: a subset (or all)
    /// of the grant's OpenID Connect scopes, never more, as RFC 6749 section 6 and Entra require. A
    /// scope the grant does not hold is refused by name, since only a new sign-in (with consent)
    /// could add it. The API's permission may always be asked for, as from an Entra refresh token
    /// for a resource the tenant has consented to: a sign-in only can be followed by a token for
    /// the API without a new sign-in.
    ///
    /// `offline_access` is kept from the grant whether or not the refresh repeats it: the used
    /// refresh token dies, so the rotated one must come back or the session would end because
    /// the client asked for fewer tokens.
    pub(crate) fn narrow(self, requested: Scopes, api: Uuid) -> Result<Scopes, Error> {
        let added: Vec<&str> = requested
            .extras()
            .into_iter()
            .zip(self.extras())
            .filter(|((asked, _), (held, _))| *asked && !*held)
            .map(|((_, name), _)| name)
            .collect();
        if !added.is_empty() {
            return Err(Error::InvalidScope(format!(
                "The scope '{}' was not granted by the sign-in this refresh token comes from (granted: '{}'): a refresh can only ask for the granted scopes or fewer; sign in again to get more.",
                added.join(" "),
                self.granted(api)
            )));
        }
        Ok(Scopes {
            offline_access: self.offline_access,
            ..requested
        })
    }

    /// The token response's `scope`: what was granted, the access token's permission first.
    pub(crate) fn granted(self, api: Uuid) -> String {
        let resource = if self.api {
            format!("api://{api}/{API_PERMISSION}")
        } else {
            GRAPH_USER_READ.to_owned()
        };
        std::iter::once(resource)
            .chain(
                self.extras()
                    .into_iter()
                    .filter(|(granted, _)| *granted)
                    .map(|(_, name)| name.to_owned()),
            )
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The OpenID Connect scopes, each with whether it is included, in the order responses list
    /// them.
    fn extras(self) -> [(bool, &'static str); 4] {
        [
            (self.openid, "openid"),
            (self.profile, "profile"),
            (self.email, "email"),
            (self.offline_access, "offline_access"),
        ]
    }
}

/// A scope of the form `{resource}/{permission}` must name the API (`api://{api}` or the bare
/// client id, as Entra accepts both) and `access_as_user` or `.default`.
fn check_api_scope(scope: &str, api: Uuid) -> Result<(), Error> {
    let Some((resource, permission)) = scope.rsplit_once('/') else {
        return Err(Error::InvalidScope(format!(
            "The scope {scope} is not valid: without a resource it would be a Microsoft Graph permission, and this provider issues tokens only for the API api://{api}."
        )));
    };
    let api_text = api.to_string();
    let resource_lower = resource.to_ascii_lowercase();
    let is_api = resource_lower == format!("api://{api_text}") || resource_lower == api_text;
    if !is_api {
        return Err(Error::UnknownResource {
            resource: resource.to_owned(),
            api: format!("api://{api}"),
        });
    }
    if permission.eq_ignore_ascii_case(API_PERMISSION) || permission == ".default" {
        Ok(())
    } else {
        Err(Error::InvalidScope(format!(
            "The scope {scope} is not valid: the API exposes only {API_PERMISSION}."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: Uuid = Uuid::from_u128(0xa1);

    #[test]
    fn the_spas_request_grants_everything_it_asks_for() {
        let raw = format!("openid profile offline_access api://{API}/access_as_user");
        let scopes = Scopes::parse(&raw, API).expect("valid");
        assert!(scopes.id_token() && scopes.refresh_token() && !scopes.email());
        assert_eq!(
            scopes.granted(API),
            format!("api://{API}/access_as_user openid profile offline_access")
        );
        let minimal = Scopes::parse(&format!("{API}/.default"), API).expect("bare client id");
        assert!(!minimal.id_token() && !minimal.refresh_token());
    }

    #[test]
    fn a_sign_in_only_gets_graphs_default_and_may_later_ask_for_the_api() {
        let sign_in = Scopes::parse("openid profile offline_access", API).expect("sign-in only");
        assert!(!sign_in.api() && sign_in.id_token() && sign_in.refresh_token());
        assert_eq!(
            sign_in.granted(API),
            format!("{GRAPH_USER_READ} openid profile offline_access")
        );
        let api = Scopes::parse(&format!("api://{API}/access_as_user openid"), API).expect("api");
        let later = sign_in
            .narrow(api, API)
            .expect("the API's permission is always granted");
        assert!(later.api() && later.refresh_token());
    }

    #[test]
    fn a_refresh_narrows_the_grant_but_never_widens_it() {
        let grant = Scopes::parse(&format!("openid offline_access {API}/access_as_user"), API)
            .expect("valid");
        let narrowed = grant
            .narrow(
                Scopes::parse(&format!("api://{API}/.default"), API).expect("valid"),
                API,
            )
            .expect("a subset is allowed");
        assert!(!narrowed.id_token(), "openid was not asked for");
        assert!(
            narrowed.refresh_token(),
            "offline_access stays with the grant"
        );
        assert_eq!(grant.narrow(grant, API).expect("the same scopes"), grant);

        let wider = Scopes::parse(
            &format!("openid email profile api://{API}/access_as_user"),
            API,
        )
        .expect("valid");
        let refused = grant.narrow(wider, API).expect_err("wider");
        assert!(matches!(refused, Error::InvalidScope(_)));
        assert!(
            refused
                .to_string()
                .contains("'profile email' was not granted"),
            "{refused}"
        );
    }

    #[test]
    fn other_resources_and_permissions_are_refused_with_the_reason() {
        let other = Scopes::parse("openid https://graph.microsoft.com/User.Read", API);
        assert!(
            matches!(other, Err(Error::UnknownResource { resource, .. }) if resource == "https://graph.microsoft.com")
        );
        let graph_short = Scopes::parse("openid User.Read", API).expect_err("graph");
        assert!(graph_short.to_string().contains("Microsoft Graph"));
        let wrong_permission = Scopes::parse(&format!("api://{API}/Tasks.Write"), API);
        assert!(matches!(wrong_permission, Err(Error::InvalidScope(_))));
        let nothing = Scopes::parse("offline_access email", API).expect_err("no token asked for");
        assert!(nothing.to_string().contains("Request openid"), "{nothing}");
        assert!(matches!(
            Scopes::parse(" ", API),
            Err(Error::MissingParameter("scope"))
        ));
    }
}

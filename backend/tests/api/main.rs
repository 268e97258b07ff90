//! The API over real HTTP on loopback, against a local stand-in for Entra ID (`testkit`).
//! One test binary: modules share [`helpers::TestApp`].

mod helpers;

mod cors;
mod input;
mod keys;
mod local_provider;
mod ops;
mod rbac;
mod validation;

//! The API over real HTTP on loopback, against local stand-ins for Entra ID and Azure (`testkit`).
//! One test binary: modules share [`helpers::TestApp`].

mod binary;
mod helpers;

mod contract;
mod cors;
mod input;
mod keys;
mod local_provider;
mod msal;
mod ops;
mod rbac;
mod storage;
mod validation;
mod vault;

//! Protocol tests: a real provider on a loopback port, driven over HTTP as the SPA and the API
//! would drive Entra ID. One test binary (see `helpers` for the shared client side).

mod cli;
mod entra_answers;
mod flow;
mod helpers;
mod https;
mod public_client;
mod refresh_scope;
mod refusals;
mod rotation;

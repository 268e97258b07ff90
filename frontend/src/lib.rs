//! Placeholder until the SPA issue fills this crate.

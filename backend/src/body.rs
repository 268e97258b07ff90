//! Request bodies: how large one may be.

/// Largest request body accepted (a task is a title of at most 200 characters).
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

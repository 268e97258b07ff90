//! One module per route, plus the page shown when the app cannot start.

mod config_error;
mod dashboard;
mod landing;
mod not_found;

pub use config_error::ConfigErrorPage;
pub use dashboard::Dashboard;
pub use landing::Landing;
pub use not_found::NotFound;

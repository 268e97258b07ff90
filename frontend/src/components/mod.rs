//! Pieces of the pages, each small enough to read on one screen.

mod footer;
mod navbar;
mod notice;
mod profile_card;
mod rbac_card;
mod sign_in_button;
mod tasks_card;

pub use footer::Footer;
pub use navbar::Navbar;
pub use notice::{AuthNotice, ErrorNotice};
pub use profile_card::ProfileCard;
pub use rbac_card::RbacCard;
pub use sign_in_button::SignInButton;
pub use tasks_card::TasksCard;

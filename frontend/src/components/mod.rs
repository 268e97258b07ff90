//! Pieces of the pages, each small enough to read on one screen.

mod access_list;
mod footer;
mod navbar;
mod notice;
mod profile_card;
mod sign_in_button;
mod skeleton;
mod tasks_card;

pub use access_list::AccessList;
pub use footer::Footer;
pub use navbar::Navbar;
pub use notice::{AuthNotice, ErrorNotice};
pub use profile_card::ProfileCard;
pub use sign_in_button::SignInButton;
pub use skeleton::Skeleton;
pub use tasks_card::TasksCard;

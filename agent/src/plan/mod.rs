//! What to take: users chosen, their folders resolved, files and settings matched by rules.

pub mod folders;
pub mod users;

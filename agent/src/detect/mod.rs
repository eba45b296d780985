//! Finding offline Windows installations and what they are.

//! lifeboat-media: WinPE boot media carrying the Lifeboat agent. The pipeline, one module a
//! stage: [`base`] (recognise what the technician gives) → [`inspect`] → [`build`] (edit a
//! copy of boot.wim: the [`agents`] that fits, config, profiles, [`hook`], drivers, notes) →
//! [`emit`] (ISO, USB folder, disk image), every media tree written through [`tree`]
//! (names merge ignoring case), standard tools run through [`tool`]. One error type: [`error`].

pub mod agents;
pub mod base;
pub mod build;
pub mod emit;
pub mod error;
pub mod hook;
pub mod inspect;
pub mod tool;
pub mod tree;

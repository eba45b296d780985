//! lifeboat-media: WinPE boot media carrying the Lifeboat agent. The pipeline, one module a
//! stage: [`base`] (recognise what the technician gives) → [`inspect`] → [`build`] (edit a
//! copy of boot.wim: agent, config, profiles, [`hook`], drivers, notes) → [`emit`] (ISO,
//! USB folder).

pub mod base;
pub mod build;
pub mod emit;
pub mod hook;
pub mod inspect;

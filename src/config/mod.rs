//! Configuration: the `.promolint.yaml` model, loading and validation (`load`), the JSON
//! Schema (`schema`), zero-config inference of environments (`infer`) and `promolint init`
//! (`init`).

pub(crate) mod infer;
pub(crate) mod init;
pub mod load;
pub mod schema;
pub(crate) mod types;

pub use crate::error::ConfigError;
pub use infer::{Env, Environments};
pub use types::*;

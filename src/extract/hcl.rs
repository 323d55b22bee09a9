//! HCL extractors: Terraform/Terragrunt version keys, module refs, templates, Packer recipes.
use crate::model::{Fact, LineIndex};

pub fn extract(_path: &str, _text: &str, _index: &LineIndex) -> Result<Vec<Fact>, String> {
    Ok(Vec::new())
}

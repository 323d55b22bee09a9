//! The HCL extractor (Terraform/Terragrunt locals, variables, module refs, templates,
//! Packer recipes). The first byte picks the file name, which decides vars-file and
//! Packer handling.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promolint::extract::Format;

const PATHS: [&str; 4] = [
    "envs/prod/main.tf",
    "envs/prod/prod.tfvars",
    "packer/ubuntu.pkr.hcl",
    "packer/ubuntu.pkrvars.hcl",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    promolint_fuzz::extract_and_check(Format::Hcl, PATHS[pick as usize % PATHS.len()], &text);
});

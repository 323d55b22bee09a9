//! The whole path of one file from bytes: the file name (first byte) picks the reader,
//! then decoding (BOM, NUL, UTF-8), the byte prefilter, extraction and suppression
//! comments, as every source of bytes (work tree, git blob, index) goes through it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promolint::pipeline as engine;
use promolint::extract;

const PATHS: [&str; 12] = [
    "clusters/prod/app.yaml",
    "clusters/prod/kustomization.yaml",
    "clusters/prod/helm-charts.yml",
    "envs/prod/main.tf",
    "envs/prod/terragrunt.hcl",
    "envs/prod/prod.tfvars",
    "packer/ubuntu.pkr.hcl",
    "packer/ubuntu.pkrvars.hcl",
    "clusters/live/.versions.env",
    "renovate.json",
    ".github/renovate.json5",
    ".renovaterc",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = PATHS[pick as usize % PATHS.len()];
    let Some(format) = extract::format_of(path) else {
        panic!("{path} has no reader");
    };
    let out = promolint_fuzz::on_worker(|| engine::file_facts(path, format, Ok(bytes)));
    match extract::decode(bytes) {
        Ok(text) => {
            for fact in &out.facts {
                for span in promolint_fuzz::spans(fact) {
                    promolint_fuzz::check_span(text, span, path);
                }
            }
            if let Some(reason) = &out.unreadable {
                promolint_fuzz::check_reason(text, reason);
            }
            if let Some(kept) = &out.text {
                assert_eq!(&**kept, text);
            }
        }
        Err(reason) => {
            assert_eq!(out.unreadable.as_deref(), Some(reason.as_str()));
            assert!(out.facts.is_empty());
        }
    }
});

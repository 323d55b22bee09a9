//! The YAML extractor (workloads, Flux, Kustomize, Argo CD, Kargo, chart lists). The first
//! byte picks the file name: kustomizations are read only from `kustomization.yaml`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promolint::extract::Format;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let path = if pick & 1 == 0 {
        "clusters/prod/app.yaml"
    } else {
        "clusters/prod/kustomization.yaml"
    };
    let text = String::from_utf8_lossy(rest);
    promolint_fuzz::extract_and_check(Format::Yaml, path, &text);
});

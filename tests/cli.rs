//! CLI cases (trycmd): every command and format with exact output bytes and exit codes.
//! Regenerate expected output after an intended change with `TRYCMD=overwrite cargo test --test cli`
//! and review the diff.

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .register_bin("promolint", trycmd::cargo::cargo_bin!("promolint"))
        .env("NO_COLOR", "1")
        // Set but empty is unset: the caller's own values do not reach the cases.
        .env("PROMOLINT_CONFIG", "")
        .env("PROMOLINT_FORMAT", "")
        .case("tests/cmd/*.toml");
}

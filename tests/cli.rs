//! CLI cases (trycmd): every command and format with exact output bytes and exit codes.
//! Regenerate expected output after an intended change with `TRYCMD=overwrite cargo test --test cli`
//! and review the diff.

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .register_bin("promolint", trycmd::cargo::cargo_bin!("promolint"))
        .env("NO_COLOR", "1")
        .case("tests/cmd/*.toml");
}

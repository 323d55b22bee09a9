//! The `.promolint.yaml` loader: parsing, shape errors, validation. Errors must name a
//! line and column inside the file; the same text must load the same way twice.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promolint::config::load;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // `load` rejects non-UTF-8 before parsing.
        return;
    };
    let first = promolint_fuzz::on_worker(|| load::parse(text, ".promolint.yaml"));
    assert_eq!(first, load::parse(text, ".promolint.yaml"));
    if let Err(e) = first {
        assert!(!e.message.is_empty());
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        if let Some(line) = e.line {
            let lines: Vec<&str> = text.split('\n').collect();
            assert!((1..=lines.len()).contains(&(line as usize)), "{e:?}");
            let width = lines[line as usize - 1].chars().count();
            let column = e.column.unwrap_or(1) as usize;
            assert!((1..=width + 1).contains(&column), "{e:?}");
        }
    }
});

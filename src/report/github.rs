//! `--format github`: GitHub Actions workflow commands, one annotation per finding:
//!
//! ```text
//! ::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=PL001 mutable-reference::MESSAGE
//! ```
//!
//! The runner reads commands line by line and splits properties at `,` and the message at
//! the first `::` after them, so every value from the repository (paths, YAML values in
//! messages) is escaped as the runner decodes it: `%` → `%25`, CR → `%0D`, LF → `%0A`
//! everywhere, and in properties also `:` → `%3A` and `,` → `%2C`. No text can end the
//! line early and start a command of its own.
//!
//! The runner decodes nothing else, and the log viewer interprets ANSI escape sequences in
//! what it prints; so every other control character (ESC, BEL and the rest of C0 but tab,
//! DEL, C1) and U+2028/U+2029 are written as visible text, `\u{1b}`, as the human output
//! writes them ([`super::printable`]). An annotation then shows the value as text, never
//! colours, clears or rewrites the log.

use super::{human, Context, Summary};
use crate::model::Level;
use crate::rules::{self, Finding};

/// Escape a command's message (the data after `::`).
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => push_visible(c, &mut out),
        }
    }
    out
}

/// Escape a command's property value.
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => push_visible(c, &mut out),
        }
    }
    out
}

/// `c`, or the escape [`super::printable`] shows for it (a control character other than
/// tab, or a Unicode line separator).
fn push_visible(c: char, out: &mut String) {
    let mut buf = [0u8; 4];
    out.push_str(&super::printable(c.encode_utf8(&mut buf)));
}

fn command(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "notice",
    }
}

/// One workflow command for a finding.
pub fn annotation(f: &Finding) -> String {
    let mut props = vec![format!("file={}", escape_property(&f.path))];
    let s = &f.span;
    if s.line > 0 {
        props.push(format!("line={}", s.line));
        if s.column > 0 {
            props.push(format!("col={}", s.column));
        }
        let nonempty = s.end_line > s.line
            || (s.end_line == s.line && s.end_column > s.column && s.column > 0);
        if nonempty {
            props.push(format!("endLine={}", s.end_line));
            props.push(format!("endColumn={}", s.end_column));
        }
    }
    let meta = rules::lookup(f.rule);
    let title = match meta {
        Some(m) => format!("{} {}", m.id, m.name),
        None => f.rule.to_string(),
    };
    props.push(format!("title={}", escape_property(&title)));
    let mut message = f.message.clone();
    for r in &f.related {
        message.push_str(&format!(
            "\n{}:{}:{}: {}",
            r.path, r.span.line, r.span.column, r.message
        ));
        if !r.revision.is_tree() {
            message.push_str(&format!(" (at {})", r.revision));
        }
    }
    if let Some(c) = &f.commit {
        message.push_str(&format!("\nin commit {c}"));
    }
    if let Some(m) = meta {
        let help: Vec<&str> = m.help_for(f.help).split_whitespace().collect();
        message.push_str(&format!("\nhelp: {}", help.join(" ")));
    }
    format!(
        "::{} {}::{}",
        command(f.level),
        props.join(","),
        escape_data(&message)
    )
}

/// Every annotation, then the summary line (plain log text) unless `quiet`.
pub fn render(ctx: &Context, quiet: bool) -> String {
    let mut out = String::new();
    for f in ctx.findings {
        out.push_str(&annotation(f));
        out.push('\n');
    }
    if !quiet {
        out.push_str(&human::summary_line(&Summary::of(ctx.findings, ctx.files)));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    #[test]
    fn escapes_as_the_runner_decodes() {
        assert_eq!(escape_data("a%b\r\nc::d,e:f\tg"), "a%25b%0D%0Ac::d,e:f\tg");
        assert_eq!(escape_property("a%b\r\nc::d,e"), "a%25b%0D%0Ac%3A%3Ad%2Ce");
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        let raw = "v1\u{1b}[2J\u{7}\u{0}\u{7f}\u{9b}31m\u{2028}é";
        let shown = "v1\\u{1b}[2J\\u{7}\\u{0}\\u{7f}\\u{9b}31m\\u{2028}é";
        assert_eq!(escape_data(raw), shown);
        assert_eq!(escape_property(raw), shown);
    }

    #[test]
    fn repository_text_cannot_start_a_command() {
        let f = Finding {
            rule: "PL001",
            level: Level::Error,
            message: "prod pins x to mutable tag `a\n::error::injected`".into(),
            path: "dir,x:y%\n::warning file=z::b.yaml".into(),
            span: Span {
                line: 2,
                column: 3,
                end_line: 2,
                end_column: 9,
                ..Span::default()
            },
            environment: None,
            component: None,
            commit: None,
            related: vec![],
            value: String::new(),
            help: None,
            fix: Default::default(),
        };
        let line = annotation(&f);
        assert!(!line.contains('\n') && !line.contains('\r'));
        assert!(line.starts_with(
            "::error file=dir%2Cx%3Ay%25%0A%3A%3Awarning file=z%3A%3Ab.yaml,line=2,col=3,endLine=2,endColumn=9,title=PL001 mutable-reference::"
        ));
        assert!(line.contains("`a%0A::error::injected`"));
    }
}

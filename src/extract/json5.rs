//! A small JSON5 reader with byte spans, for Renovate configuration files.
//!
//! It reads JSON and the JSON5 extensions Renovate users write: `//` and `/* */`
//! comments, trailing commas, unquoted (identifier) keys, single-quoted strings, escaped
//! line breaks in strings, hexadecimal numbers, `Infinity`/`NaN`, leading or trailing
//! decimal points and explicit `+` signs. Every node keeps the byte range of its token so
//! that a diagnostic can point at one string of a list.
//!
//! Input comes from users' repositories: nothing here panics, and nesting deeper than
//! [`MAX_DEPTH`] is an error rather than a deep recursion.

use std::ops::Range;

/// Deepest nesting of arrays and objects accepted (the same bound as for YAML).
pub const MAX_DEPTH: usize = 64;

/// One JSON5 value and the byte range of its token: for a string the quotes included, for
/// an array or object from its opening to its closing bracket.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub val: Val,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    /// A number as written (`1`, `0x1F`, `-.5`, `Infinity`).
    Num(String),
    /// A string, decoded (escapes applied).
    Str(String),
    Arr(Vec<Node>),
    /// Members in source order; a repeated key is kept (the last one wins, see [`Node::get`]).
    Obj(Vec<(Key, Node)>),
}

/// An object member's key, decoded, with the byte range of its token.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// Why a text is not JSON5, with the byte offset the problem was found at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl Node {
    /// The value of `key` in an object (the last one, as JSON5 parsers do).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.members()
            .iter()
            .rev()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn members(&self) -> &[(Key, Node)] {
        match &self.val {
            Val::Obj(members) => members,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.val {
            Val::Arr(items) => items,
            _ => &[],
        }
    }

    pub fn str(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn bool(&self) -> Option<bool> {
        match self.val {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The byte range of a string's characters without its quotes when the source spells
    /// the value literally (no escapes); otherwise the whole token.
    pub fn value_range(&self, text: &str) -> Range<usize> {
        let whole = self.start..self.end;
        let Some(value) = self.str() else {
            return whole;
        };
        let inner = (self.start + 1)..self.end.saturating_sub(1).max(self.start + 1);
        match text.get(inner.clone()) {
            Some(raw) if raw == value => inner,
            _ => whole,
        }
    }

    /// A canonical text of the value (keys sorted, strings quoted), so that two values
    /// written differently compare equal.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut String) {
        match &self.val {
            Val::Null => out.push_str("null"),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Num(n) => out.push_str(n),
            Val::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' | '\\' => {
                            out.push('\\');
                            out.push(c);
                        }
                        '\n' => out.push_str("\\n"),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Val::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_canonical(out);
                }
                out.push(']');
            }
            Val::Obj(members) => {
                let mut sorted: Vec<&(Key, Node)> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
                out.push('{');
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&k.name);
                    out.push(':');
                    v.write_canonical(out);
                }
                out.push('}');
            }
        }
    }
}

/// Parse one JSON5 document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser { text, pos: 0 };
    p.skip_trivia()?;
    if p.pos >= text.len() {
        return Err(p.error("empty document"));
    }
    let node = p.value(0)?;
    p.skip_trivia()?;
    if p.pos < text.len() {
        return Err(p.error("unexpected text after the document's value"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn is_id_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic()
}

fn is_id_continue(c: char) -> bool {
    is_id_start(c) || c.is_alphanumeric() || matches!(c, '\u{200C}' | '\u{200D}')
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            offset,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.text.get(self.pos..)?.chars().nth(ahead)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), ParseError> {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '\u{FEFF}' {
                self.bump();
            } else if c == '/' && self.peek_at(1) == Some('/') {
                while let Some(c) = self.peek() {
                    if is_line_terminator(c) {
                        break;
                    }
                    self.bump();
                }
            } else if c == '/' && self.peek_at(1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                match self.text.get(self.pos..).and_then(|r| r.find("*/")) {
                    Some(end) => self.pos += end + 2,
                    None => return Err(self.error_at(start, "unterminated `/*` comment")),
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        let val = match c {
            '{' => return self.object(depth),
            '[' => return self.array(depth),
            '"' | '\'' => Val::Str(self.string()?),
            '0'..='9' | '-' | '+' | '.' => Val::Num(self.number()?),
            c if is_id_start(c) => {
                let word = self.identifier()?;
                match word.as_str() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    "null" => Val::Null,
                    "Infinity" | "NaN" => Val::Num(word),
                    _ => {
                        return Err(self
                            .error_at(start, format!("unexpected `{word}`; strings need quotes")))
                    }
                }
            }
            c => return Err(self.error(format!("unexpected character `{c}`, expected a value"))),
        };
        Ok(Node {
            val,
            start,
            end: self.pos,
        })
    }

    fn too_deep(&self, depth: usize) -> Result<(), ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(format!("JSON5 nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Node, ParseError> {
        self.too_deep(depth)?;
        let start = self.pos;
        self.bump(); // `[`
        let mut items = Vec::new();
        loop {
            self.skip_trivia()?;
            match self.peek() {
                Some(']') => {
                    self.bump();
                    break;
                }
                None => return Err(self.error_at(start, "unterminated array: `]` is missing")),
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_trivia()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                Some(c) => {
                    return Err(self.error(format!("expected `,` or `]`, found `{c}`")));
                }
                None => return Err(self.error_at(start, "unterminated array: `]` is missing")),
            }
        }
        Ok(Node {
            val: Val::Arr(items),
            start,
            end: self.pos,
        })
    }

    fn object(&mut self, depth: usize) -> Result<Node, ParseError> {
        self.too_deep(depth)?;
        let start = self.pos;
        self.bump(); // `{`
        let mut members = Vec::new();
        loop {
            self.skip_trivia()?;
            let key_start = self.pos;
            let name = match self.peek() {
                Some('}') => {
                    self.bump();
                    break;
                }
                None => return Err(self.error_at(start, "unterminated object: `}` is missing")),
                Some('"' | '\'') => self.string()?,
                Some(c) if is_id_start(c) => self.identifier()?,
                Some(c) => {
                    return Err(self.error(format!("expected a key or `}}`, found `{c}`")));
                }
            };
            let key = Key {
                name,
                start: key_start,
                end: self.pos,
            };
            self.skip_trivia()?;
            if self.peek() != Some(':') {
                return Err(self.error(format!("expected `:` after key `{}`", key.name)));
            }
            self.bump();
            self.skip_trivia()?;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_trivia()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                Some(c) => {
                    return Err(self.error(format!("expected `,` or `}}`, found `{c}`")));
                }
                None => return Err(self.error_at(start, "unterminated object: `}` is missing")),
            }
        }
        Ok(Node {
            val: Val::Obj(members),
            start,
            end: self.pos,
        })
    }

    fn identifier(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if self.pos == start && !is_id_start(c) || self.pos > start && !is_id_continue(c) {
                break;
            }
            self.bump();
        }
        if self.peek() == Some('\\') {
            return Err(self.error("escapes in unquoted keys are not supported; quote the key"));
        }
        Ok(self.text[start..self.pos].to_string())
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(self.error("expected a string"));
        };
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.error_at(start, "unterminated string"));
            };
            match c {
                c if c == quote => break,
                '\\' => self.escape(&mut out)?,
                '\n' | '\r' => {
                    return Err(self.error_at(
                        self.pos - 1,
                        "line break in a string (end the line with `\\` to continue it)",
                    ))
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }

    /// One escape sequence after `\`.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let at = self.pos - 1;
        let Some(c) = self.bump() else {
            return Err(self.error_at(at, "unterminated string"));
        };
        match c {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '0' if !self.peek().is_some_and(|d| d.is_ascii_digit()) => out.push('\0'),
            '1'..='9' | '0' => {
                return Err(self.error_at(at, "octal escapes are not allowed in JSON5"));
            }
            'x' => {
                let v = self.hex_digits(2, at)?;
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            'u' => {
                let v = self.hex_digits(4, at)?;
                if (0xD800..0xDC00).contains(&v)
                    && self.peek() == Some('\\')
                    && self.peek_at(1) == Some('u')
                {
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex_digits(4, at)?;
                    if (0xDC00..0xE000).contains(&low) {
                        let cp = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        return Ok(());
                    }
                    self.pos = save;
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            // A line continuation: the escaped line break is not part of the value.
            '\n' | '\u{2028}' | '\u{2029}' => {}
            '\r' => {
                if self.peek() == Some('\n') {
                    self.bump();
                }
            }
            c => out.push(c),
        }
        Ok(())
    }

    fn hex_digits(&mut self, n: usize, at: usize) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.pos += 1;
                }
                None => return Err(self.error_at(at, "malformed escape sequence")),
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.bump();
        }
        if self.peek().is_some_and(is_id_start) {
            let word = self.identifier()?;
            if word != "Infinity" && word != "NaN" {
                return Err(self.error_at(start, "malformed number"));
            }
            return Ok(self.text[start..self.pos].to_string());
        }
        let mut digits = 0;
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X')) {
            self.pos += 2;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
                digits += 1;
            }
        } else {
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
                digits += 1;
            }
            if self.peek() == Some('.') {
                self.bump();
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                    digits += 1;
                }
            }
            if digits > 0 && matches!(self.peek(), Some('e' | 'E')) {
                self.bump();
                if matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
                let mut exp = 0;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                    exp += 1;
                }
                if exp == 0 {
                    return Err(self.error_at(start, "malformed number"));
                }
            }
        }
        if digits == 0 {
            return Err(self.error_at(start, "malformed number"));
        }
        Ok(self.text[start..self.pos].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Node {
        match parse(text) {
            Ok(n) => n,
            Err(e) => panic!("{text:?}: {e:?}"),
        }
    }

    fn err(text: &str) -> ParseError {
        match parse(text) {
            Ok(n) => panic!("{text:?}: expected an error, got {n:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn json5_syntax() {
        let text = r#"// leading comment
{
  $schema: 'https://docs.renovatebot.com/renovate-schema.json',
  /* block
     comment */ "quoted": "a\"b",
  unquoted_key: [1, -2.5, .5, 5., +1, 0x1F, Infinity, -NaN, 1e3,],
  nested: {a: null, b: true, c: false,},
  multi: "one \
two",
  'single': 'it\'s',
  esc: "\u00e9\x41\t",
}
"#;
        let root = ok(text);
        assert_eq!(
            root.get("$schema").and_then(Node::str),
            Some("https://docs.renovatebot.com/renovate-schema.json")
        );
        assert_eq!(root.get("quoted").and_then(Node::str), Some("a\"b"));
        let nums: Vec<String> = root
            .get("unquoted_key")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .map(|n| match &n.val {
                Val::Num(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            nums,
            ["1", "-2.5", ".5", "5.", "+1", "0x1F", "Infinity", "-NaN", "1e3"]
        );
        let nested = root.get("nested").unwrap();
        assert_eq!(nested.get("a").map(|n| &n.val), Some(&Val::Null));
        assert_eq!(nested.get("b").and_then(Node::bool), Some(true));
        assert_eq!(root.get("multi").and_then(Node::str), Some("one two"));
        assert_eq!(root.get("single").and_then(Node::str), Some("it's"));
        assert_eq!(root.get("esc").and_then(Node::str), Some("éA\t"));
    }

    #[test]
    fn crlf_files_and_line_continuations() {
        let text = "{\r\n  // c\r\n  a: 'x\\\r\ny',\r\n  b: \"z\",\r\n}\r\n";
        let root = ok(text);
        assert_eq!(root.get("a").and_then(Node::str), Some("xy"));
        let b = root.get("b").unwrap();
        let start = text.find('z').unwrap();
        assert_eq!(b.value_range(text), start..start + 1);
    }

    #[test]
    fn spans_point_inside_quotes_when_literal() {
        let text = "{a: [\"x/*.yaml\", 'y', \"e\\u0073c\"]}";
        let root = ok(text);
        let items = root.get("a").unwrap().items();
        let r = items[0].value_range(text);
        assert_eq!(&text[r], "x/*.yaml");
        assert_eq!(&text[items[1].value_range(text)], "y");
        // An escape: the whole token.
        assert_eq!(&text[items[2].value_range(text)], "\"e\\u0073c\"");
        let key = &root.members()[0].0;
        assert_eq!(&text[key.start..key.end], "a");
        assert_eq!((root.start, root.end), (0, text.len()));
    }

    #[test]
    fn last_duplicate_key_wins_and_canonical_form_sorts_keys() {
        let root = ok("{a: 1, a: 2}");
        assert_eq!(root.get("a").map(|n| &n.val), Some(&Val::Num("2".into())));
        let x = ok("{b: ['k', \"v\"], a: {z: 1, y: null}}");
        let y = ok("{\n  a: {y: null, z: 1},\n  b: [\"k\", 'v',],\n}");
        assert_eq!(x.canonical(), y.canonical());
        assert_eq!(x.canonical(), r#"{a:{y:null,z:1},b:["k","v"]}"#);
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(err("").message, "empty document");
        assert_eq!(err("// only a comment\n").message, "empty document");
        assert_eq!(err("{a: 1,, }").offset, 6);
        assert_eq!(err("{a: 1} x").offset, 7);
        assert!(err("{a: bare}").message.contains("strings need quotes"));
        assert!(err("{a: 'x\n'}").message.contains("line break"));
        assert!(err("{a: 1").message.contains("unterminated object"));
        assert!(err("[1, 2").message.contains("unterminated array"));
        assert!(err("{a: \"x").message.contains("unterminated string"));
        assert!(err("/* x").message.contains("unterminated"));
        assert!(err("{a: \"\\1\"}").message.contains("octal"));
        assert!(err("{a: -}").message.contains("malformed number"));
        assert!(err("{a: 1e}").message.contains("malformed number"));
        assert!(err("{a: \"\\u12\"}").message.contains("escape"));
        assert!(err("{1: 2}").message.contains("expected a key"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(&text))
            .unwrap();
        let e = handle.join().unwrap().unwrap_err();
        assert_eq!(e.message, format!("JSON5 nesting deeper than {MAX_DEPTH}"));
        assert_eq!(e.offset, MAX_DEPTH);
    }

    #[test]
    fn no_panic_on_any_prefix_or_odd_input() {
        let text = "{\n  // c\n  a: ['x', \"y\\u00e9\", 0x1f, +.5e-3, {b: [true, null,],},],\n  'k\\\nl': /* c */ \"é\\uD83D\\uDE00\\uD83D\",\n}\n";
        let mut ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        ends.push(text.len());
        for end in ends {
            let _ = parse(&text[..end]);
        }
        for odd in [
            "\u{FEFF}{}",
            "\"\\",
            "'",
            "\\",
            "{'a'}",
            "{a:}",
            "[,]",
            "{,}",
            "0x",
            "+",
            ".",
            "\"\\x4\"",
            "\"\\uD800\"",
            "{a\\u0061: 1}",
            "[]]",
            "Infinit",
            "é",
            "{é: 1}",
        ] {
            let _ = parse(odd);
        }
        assert_eq!(ok("{é: 1}").members()[0].0.name, "é");
        assert!(matches!(ok("[]").val, Val::Arr(ref v) if v.is_empty()));
    }
}

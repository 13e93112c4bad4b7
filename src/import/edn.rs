//! A small EDN reader: just enough of <https://github.com/edn-format/edn> for Jepsen histories.
//!
//! It reads nil, booleans, integers, floats, strings with escapes, characters, keywords,
//! symbols, lists, vectors, maps and sets; commas are white space, `;` starts a comment, `#_`
//! discards the next form and any other tag (`#inst "…"`, `#jepsen.history.Op{…}`) is dropped,
//! keeping the tagged form. Every form remembers the line it starts on. Nesting is limited so that
//! hostile input cannot overflow the stack.

use super::ImportError;

/// Deeper nesting than this is refused: the reader is recursive, and histories nest 2–3 levels.
const MAX_DEPTH: usize = 128;

/// One EDN value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Nil,
    Bool(bool),
    /// Wide enough for every process number the other formats accept (`u64`) and every `i64`
    /// value, so a reader can say "out of range" rather than "not a number".
    Int(i128),
    Float(f64),
    Str(String),
    Char(char),
    /// Without the leading colon.
    Keyword(String),
    Symbol(String),
    List(Vec<Form>),
    Vector(Vec<Form>),
    Map(Vec<(Form, Form)>),
    Set(Vec<Form>),
}

/// A value and the line (1-based) it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Form {
    pub value: Value,
    pub line: usize,
}

impl Value {
    /// How the value reads in an error message: short, in EDN syntax.
    pub(crate) fn describe(&self) -> String {
        let text = match self {
            Value::Nil => "nil".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => format!("{s:?}"),
            Value::Char(c) => format!("\\{c}"),
            Value::Keyword(k) => format!(":{k}"),
            Value::Symbol(s) => s.clone(),
            Value::List(items) => return describe_seq("(", ")", items),
            Value::Vector(items) => return describe_seq("[", "]", items),
            Value::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{} {}", k.value.describe(), v.value.describe()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            Value::Set(items) => return describe_seq("#{", "}", items),
        };
        truncate(text)
    }

    /// The keyword's name, if this is a keyword.
    pub(crate) fn as_keyword(&self) -> Option<&str> {
        match self {
            Value::Keyword(k) => Some(k),
            _ => None,
        }
    }
}

fn describe_seq(open: &str, close: &str, items: &[Form]) -> String {
    let inner: Vec<String> = items.iter().map(|f| f.value.describe()).collect();
    truncate(format!("{open}{}{close}", inner.join(" ")))
}

fn truncate(text: String) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

impl Form {
    /// The value of `:key` in this map form (`None` if absent or not a map).
    pub(crate) fn get(&self, key: &str) -> Option<&Form> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value.as_keyword() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Reads every top-level form of `text`; line numbers start at `first_line`.
pub(crate) fn read_all(text: &str, first_line: usize) -> Result<Vec<Form>, ImportError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: first_line,
    };
    let mut forms = Vec::new();
    loop {
        reader.skip_blank();
        if reader.pos >= reader.bytes.len() {
            return Ok(forms);
        }
        if let Some(form) = reader.read_form(0)? {
            forms.push(form);
        }
    }
}

/// The events of a history, read one at a time so that only one event's forms are held at once
/// (the whole tree of a large history costs several times the file's size): the items of a
/// single top-level vector or list, or else the top-level forms themselves.
pub(crate) struct Events<'a> {
    reader: Reader<'a>,
    /// Inside the top-level vector or list: its closing bracket and the line it opened on.
    inside: Option<(u8, usize)>,
    started: bool,
}

impl<'a> Events<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Events {
            reader: Reader {
                text,
                bytes: text.as_bytes(),
                pos: 0,
                line: 1,
            },
            inside: None,
            started: false,
        }
    }

    /// The next event's form; `Ok(None)` at the end of the input.
    pub(crate) fn next_form(&mut self) -> Result<Option<Form>, ImportError> {
        if !self.started {
            self.started = true;
            self.open_top_level()?;
        }
        let r = &mut self.reader;
        loop {
            r.skip_blank();
            match (r.peek(), self.inside) {
                (None, None) => return Ok(None),
                (None, Some((close, line))) => {
                    return Err(r.error(
                        line,
                        format!(
                            "unterminated {}: no closing `{}` before the end of the input",
                            if close == b']' { "vector" } else { "list" },
                            close as char
                        ),
                    ))
                }
                (Some(b), Some((close, line))) if b == close => {
                    r.pos += 1;
                    r.skip_blank();
                    if r.peek().is_some() {
                        return Err(r.error(
                            line,
                            "expected an event map {:process …, :type …, :f …, :value …}, found a \
                             vector followed by more forms (a history is one vector of event maps, \
                             or one event map per line)",
                        ));
                    }
                    self.inside = None;
                    return Ok(None);
                }
                (Some(_), inside) => {
                    // Events sit one level down inside the vector: the nesting limit counts it.
                    if let Some(form) = r.read_form(usize::from(inside.is_some()))? {
                        return Ok(Some(form));
                    }
                }
            }
        }
    }

    /// Steps into a top-level vector or list of events, past any tags or discarded forms before
    /// it (`#jepsen.history [...]`).
    fn open_top_level(&mut self) -> Result<(), ImportError> {
        let r = &mut self.reader;
        loop {
            r.skip_blank();
            match (r.peek(), r.bytes.get(r.pos + 1).copied()) {
                (Some(b @ (b'[' | b'(')), _) => {
                    r.pos += 1;
                    self.inside = Some((if b == b'[' { b']' } else { b')' }, r.line));
                    return Ok(());
                }
                (Some(b'#'), Some(b'_')) => {
                    let line = r.line;
                    r.pos += 2;
                    r.read_next(line, 0, "`#_`")?;
                }
                (Some(b'#'), Some(c)) if c.is_ascii_alphabetic() => {
                    // Only a tag right before the vector is skipped; a tagged map is an event.
                    let (pos, line) = (r.pos, r.line);
                    r.pos += 1;
                    r.token();
                    r.skip_blank();
                    if !matches!(r.peek(), Some(b'[' | b'(')) {
                        (r.pos, r.line) = (pos, line);
                        return Ok(());
                    }
                }
                _ => return Ok(()),
            }
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl<'a> Reader<'a> {
    fn error(&self, line: usize, message: impl Into<String>) -> ImportError {
        ImportError::new(line, message)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips white space, commas and comments.
    fn skip_blank(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b',' => self.pos += 1,
                b';' => {
                    while let Some(b) = self.peek() {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b if b.is_ascii_whitespace() => self.pos += 1,
                _ => break,
            }
        }
    }

    /// Reads one form at the current position (not blank). `Ok(None)` for a discarded one
    /// (`#_ x`).
    fn read_form(&mut self, depth: usize) -> Result<Option<Form>, ImportError> {
        if depth > MAX_DEPTH {
            return Err(self.error(
                self.line,
                format!("forms nested more than {MAX_DEPTH} deep"),
            ));
        }
        let line = self.line;
        let b = self.bytes[self.pos];
        let value = match b {
            b'(' => {
                self.pos += 1;
                Value::List(self.read_seq(b')', "list", line, depth)?)
            }
            b'[' => {
                self.pos += 1;
                Value::Vector(self.read_seq(b']', "vector", line, depth)?)
            }
            b'{' => {
                self.pos += 1;
                self.read_map(line, depth)?
            }
            b')' | b']' | b'}' => {
                return Err(self.error(line, format!("unexpected `{}`", b as char)));
            }
            b'"' => Value::Str(self.read_string()?),
            b'\\' => Value::Char(self.read_char()?),
            b'#' => return self.read_dispatch(depth),
            _ => self.read_atom()?,
        };
        Ok(Some(Form { value, line }))
    }

    /// Reads forms up to `close` (the opening bracket is consumed).
    fn read_seq(
        &mut self,
        close: u8,
        what: &str,
        start: usize,
        depth: usize,
    ) -> Result<Vec<Form>, ImportError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(self.error(
                        start,
                        format!(
                            "unterminated {what}: no closing `{}` before the end of the input",
                            close as char
                        ),
                    ))
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => {
                    if let Some(form) = self.read_form(depth + 1)? {
                        items.push(form);
                    }
                }
            }
        }
    }

    fn read_map(&mut self, start: usize, depth: usize) -> Result<Value, ImportError> {
        let items = self.read_seq(b'}', "map", start, depth)?;
        if items.len() % 2 != 0 {
            return Err(self.error(
                start,
                format!(
                    "map has an odd number of forms ({}): a key without a value",
                    items.len()
                ),
            ));
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut items = items.into_iter();
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }

    /// `#{…}` sets, `#_` discards, and tags (`#inst "…"`), whose form is kept as is.
    fn read_dispatch(&mut self, depth: usize) -> Result<Option<Form>, ImportError> {
        let line = self.line;
        self.pos += 1;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let items = self.read_seq(b'}', "set", line, depth)?;
                Ok(Some(Form {
                    value: Value::Set(items),
                    line,
                }))
            }
            Some(b'_') => {
                self.pos += 1;
                self.read_next(line, depth, "`#_`")?;
                Ok(None)
            }
            Some(b) if b.is_ascii_alphabetic() => {
                // A tag names a symbol; the tagged form follows (possibly without a space, as in
                // `#jepsen.history.Op{…}`).
                self.token();
                let form = self.read_next(line, depth, "a tag")?;
                Ok(Some(form))
            }
            _ => Err(self.error(line, "`#` must start a set `#{…}`, a discard `#_` or a tag")),
        }
    }

    /// The form after a `#_` or a tag.
    fn read_next(&mut self, line: usize, depth: usize, after: &str) -> Result<Form, ImportError> {
        loop {
            self.skip_blank();
            match self.peek() {
                None | Some(b')' | b']' | b'}') => {
                    return Err(self.error(line, format!("{after} must be followed by a form")))
                }
                Some(_) => {
                    if let Some(form) = self.read_form(depth + 1)? {
                        return Ok(form);
                    }
                }
            }
        }
    }

    /// The text up to the next delimiter.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_delimiter(b) {
                break;
            }
            self.pos += 1;
        }
        // Delimiters are ASCII, so both ends are on character boundaries.
        &self.text[start..self.pos]
    }

    fn read_string(&mut self) -> Result<String, ImportError> {
        let start = self.line;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else {
                return Err(self.error(
                    start,
                    "unterminated string: no closing `\"` before the end of the input",
                ));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\n' => {
                    self.line += 1;
                    out.push(c);
                }
                '\\' => {
                    let line = self.line;
                    let Some(e) = self.text[self.pos..].chars().next() else {
                        return Err(self.error(
                            start,
                            "unterminated string: no closing `\"` before the end of the input",
                        ));
                    };
                    self.pos += e.len_utf8();
                    out.push(match e {
                        '"' => '"',
                        '\\' => '\\',
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'u' => self.read_unicode(line)?,
                        other => {
                            return Err(
                                self.error(line, format!("unknown escape `\\{other}` in a string"))
                            )
                        }
                    });
                }
                c => out.push(c),
            }
        }
    }

    /// The four hex digits after `\u`.
    fn read_unicode(&mut self, line: usize) -> Result<char, ImportError> {
        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        let code = if hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
        } else {
            None
        };
        match code {
            Some(c) => {
                self.pos += 4;
                Ok(c)
            }
            None => Err(self.error(
                line,
                "bad escape: `\\u` must be followed by four hex digits of a character",
            )),
        }
    }

    fn read_char(&mut self) -> Result<char, ImportError> {
        let line = self.line;
        self.pos += 1;
        // `\(` or `\"`: a delimiter right after the backslash is the character itself.
        let Some(first) = self.text[self.pos..].chars().next() else {
            return Err(self.error(line, "a `\\` character literal needs a character"));
        };
        if first.is_ascii() && is_delimiter(first as u8) && !first.is_ascii_whitespace() {
            self.pos += 1;
            return Ok(first);
        }
        let name = self.token();
        let mut chars = name.chars();
        match (chars.next(), chars.next(), name) {
            (Some(c), None, _) => Ok(c),
            (_, _, "newline") => Ok('\n'),
            (_, _, "space") => Ok(' '),
            (_, _, "tab") => Ok('\t'),
            (_, _, "return") => Ok('\r'),
            (_, _, "formfeed") => Ok('\u{c}'),
            (_, _, "backspace") => Ok('\u{8}'),
            (Some('u'), Some(_), _) if name.len() == 5 => u32::from_str_radix(&name[1..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| self.error(line, format!("bad character literal `\\{name}`"))),
            _ => Err(self.error(line, format!("bad character literal `\\{name}`"))),
        }
    }

    /// Numbers, keywords, symbols, nil, true, false.
    fn read_atom(&mut self) -> Result<Value, ImportError> {
        let line = self.line;
        let token = self.token();
        if token.is_empty() {
            // Only reachable for a stray delimiter the callers did not handle; be safe anyway.
            self.pos += 1;
            return Err(self.error(line, "unexpected character"));
        }
        let first = token.as_bytes()[0];
        let second = token.as_bytes().get(1).copied();
        let numeric = first.is_ascii_digit()
            || (matches!(first, b'+' | b'-') && second.is_some_and(|b| b.is_ascii_digit()));
        if numeric {
            return parse_number(token).ok_or_else(|| {
                let digits = token.trim_start_matches(['+', '-']).trim_end_matches('N');
                let problem = if digits.bytes().all(|b| b.is_ascii_digit()) {
                    "too large for any field of a history"
                } else {
                    "expected an integer such as 42 or -7"
                };
                self.error(line, format!("bad number `{token}`: {problem}"))
            });
        }
        if let Some(name) = token.strip_prefix(':') {
            // `::k` (auto-resolved in Clojure) reads as `:k`.
            let name = name.trim_start_matches(':');
            if name.is_empty() {
                return Err(self.error(line, "a keyword needs a name after `:`"));
            }
            return Ok(Value::Keyword(name.to_string()));
        }
        Ok(match token {
            "nil" => Value::Nil,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Symbol(token.to_string()),
        })
    }
}

/// An integer (`42`, `-7`, `+3`, `42N`) or a float (`1.5`, `1e3`, `2.5M`).
fn parse_number(token: &str) -> Option<Value> {
    let int = token.strip_suffix('N').unwrap_or(token);
    let digits = int.strip_prefix(['+', '-']).unwrap_or(int);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return int
            .strip_prefix('+')
            .unwrap_or(int)
            .parse::<i128>()
            .ok()
            .map(Value::Int);
    }
    let float = token.strip_suffix('M').unwrap_or(token);
    let body = float.strip_prefix(['+', '-']).unwrap_or(float);
    let plausible = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if plausible && body.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return float.parse::<f64>().ok().map(Value::Float);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Value> {
        read_all(text, 1)
            .unwrap()
            .into_iter()
            .map(|f| f.value)
            .collect()
    }

    #[test]
    fn reads_the_syntax_jepsen_writes() {
        let forms = read_all(
            "; a comment\n{:a 1, :b [nil true \"x\\\"y\\u0041\"]}\n#{:s} #_ 3 #inst \"t\" \\a -4 2.5",
            1,
        )
        .unwrap();
        assert_eq!(forms[0].line, 2);
        assert_eq!(forms[0].get("a").unwrap().value, Value::Int(1));
        assert_eq!(
            forms[0].get("b").unwrap().value.describe(),
            "[nil true \"x\\\"yA\"]"
        );
        assert_eq!(
            read("#{:s} #_ 3 #inst \"t\" \\a -4 2.5 #x.y{:k 1}")[..5],
            [
                Value::Set(vec![Form {
                    value: Value::Keyword("s".into()),
                    line: 1
                }]),
                Value::Str("t".into()),
                Value::Char('a'),
                Value::Int(-4),
                Value::Float(2.5),
            ]
        );
    }

    #[test]
    fn errors_name_the_line_where_the_form_starts() {
        let e = read_all("[1\n2\n\"abc\n", 1).unwrap_err();
        assert_eq!(
            (e.line, e.message.contains("unterminated string")),
            (3, true)
        );
        let e = read_all("\n[1 2", 1).unwrap_err();
        assert_eq!(
            (e.line, e.message.contains("unterminated vector")),
            (2, true)
        );
        let e = read_all("1x", 5).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("bad number `1x`"), "{}", e.message);
        let deep = "[".repeat(10_000);
        assert!(read_all(&deep, 1).unwrap_err().message.contains("nested"));
    }
}

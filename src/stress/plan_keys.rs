//! Where each key of a plan file is written: the line of every key with its path from the top
//! (`limits.max_p99_us`, `mix.Put`), for errors found after serde has forgotten the text.
//!
//! Only keys count, not values or substrings: a `result_path` holding "rate" or a param named
//! `threads_x` must not be blamed for `rate` or `threads`. These are small scanners, not parsers:
//! serde has already accepted the text, so they only need to find keys in valid JSON or TOML.

/// Every key of `text` (TOML when `toml`, else JSON) as its dotted path and 1-based line, in
/// the order they are written.
pub(in crate::stress) fn keys(text: &str, toml: bool) -> Vec<(String, usize)> {
    if toml {
        toml_keys(text)
    } else {
        json_keys(text)
    }
}

/// The line of the key `path` (dotted), if the text writes it. No guess otherwise: a key of the
/// same name elsewhere (a param) is the wrong line, and no line is better than a wrong one.
pub(super) fn line_of(text: &str, toml: bool, path: &str) -> Option<usize> {
    keys(text, toml)
        .into_iter()
        .find(|(p, _)| p == path)
        .map(|(_, line)| line)
}

/// A JSON string starting after its opening quote at `chars[i]`: its text and the index after
/// the closing quote.
fn json_string(chars: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '"' => break,
            // An escaped character is kept as written: keys that matter are plain names.
            '\\' => {
                if let Some(&e) = chars.get(i) {
                    s.push(e);
                    i += 1;
                }
            }
            c => s.push(c),
        }
    }
    (s, i)
}

fn json_keys(text: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    // One entry per open container: an object's latest key (`None` for an array, or an
    // object before its first key).
    let mut open: Vec<(bool, Option<String>)> = Vec::new();
    let mut keys = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '\n' => line += 1,
            '{' => open.push((true, None)),
            '[' => open.push((false, None)),
            '}' | ']' => {
                open.pop();
            }
            '"' => {
                let (s, after) = json_string(&chars, i);
                i = after;
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                let in_object = open.last().is_some_and(|(object, _)| *object);
                if next == Some(&':') && in_object {
                    let mut path: Vec<&str> = (open[..open.len() - 1].iter())
                        .filter_map(|(_, k)| k.as_deref())
                        .collect();
                    path.push(&s);
                    keys.push((path.join("."), line));
                    if let Some(top) = open.last_mut() {
                        top.1 = Some(s);
                    }
                }
            }
            _ => {}
        }
    }
    keys
}

/// A TOML key at the start of `s` (bare or quoted, dotted), if `=` follows it: its parts and
/// the rest of `s` after the `=`.
fn toml_key(s: &str) -> Option<(Vec<String>, &str)> {
    let mut parts = Vec::new();
    let mut rest = s.trim_start();
    loop {
        let (part, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'')?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else {
            let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            let end = rest.find(|c: char| !bare(c)).unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            (rest[..end].to_string(), &rest[end..])
        };
        parts.push(part);
        rest = after.trim_start();
        if let Some(more) = rest.strip_prefix('.') {
            rest = more;
        } else {
            return rest.strip_prefix('=').map(|value| (parts, value));
        }
    }
}

fn toml_keys(text: &str) -> Vec<(String, usize)> {
    let mut keys = Vec::new();
    let mut table: Vec<String> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.starts_with('[') {
            // A table header: `[limits]`, `[limits.max_p99_us_by_rule]`, `[[array]]`.
            let name = line.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("");
            table = name
                .split('.')
                .map(|p| p.trim().trim_matches('"').trim_matches('\'').to_string())
                .collect();
            continue;
        }
        // Keys start the line, or follow `{` or `,` inside an inline table (`mix = { Put = 3 }`).
        let mut open: Vec<Vec<String>> = vec![table.clone()];
        let mut at = Some(line);
        while let Some(s) = at.take() {
            let Some((parts, value)) = toml_key(s) else {
                break;
            };
            let mut path = open.last().cloned().unwrap_or_default();
            path.extend(parts);
            keys.push((path.join("."), n + 1));
            at = next_inline_key(value, &mut open, path);
        }
    }
    keys
}

/// Scans a value for the next key of an inline table: after a `{` (which opens one under
/// `path`) or a `,` inside one; `}` closes one. Strings are skipped whole.
fn next_inline_key<'a>(
    value: &'a str,
    open: &mut Vec<Vec<String>>,
    path: Vec<String>,
) -> Option<&'a str> {
    let mut path = Some(path);
    let mut chars = value.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' => {
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '#' => return None,
            '{' => {
                open.push(path.take().unwrap_or_default());
                return Some(&value[i + 1..]);
            }
            '}' => {
                open.pop();
            }
            ',' if open.len() > 1 => return Some(&value[i + 1..]),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_have_their_paths_and_lines_and_values_are_not_keys() {
        let text = "{\n \"result_path\": \"/tmp/rate:threads.json\",\n \"params\": {\"threads_x\": 1, \"max_p99_us\": 2},\n \"rate\": 0,\n \"limits\": {\n  \"max_p99_us\": -1\n },\n \"mix\": [\"x\"]\n}";
        let keys = keys(text, false);
        let line = |p: &str| keys.iter().find(|(k, _)| k == p).map(|(_, l)| *l);
        assert_eq!(line("result_path"), Some(2));
        assert_eq!(line("params.threads_x"), Some(3));
        assert_eq!(line("params.max_p99_us"), Some(3));
        assert_eq!(line("rate"), Some(4));
        assert_eq!(line("limits.max_p99_us"), Some(6));
        assert_eq!(line("threads"), None);
        assert_eq!(line_of(text, false, "limits.max_p99_us"), Some(6));
        assert_eq!(line_of(text, false, "threads"), None);
        // Not the param of the same name.
        assert_eq!(line_of(text, false, "max_p99_us"), None);
    }

    #[test]
    fn toml_keys_follow_tables_inline_tables_and_dotted_keys() {
        let text = "result_path = \"/tmp/rate = 1, {x = 2}\"\nparams = { threads_x = 1, max_p99_us = 2 }\nrate = 0 # rate = 1\nlimits.min_throughput = 3\n\n[limits]\nmax_p99_us = -1\n\n[limits.max_p99_us_by_rule]\n\"Get\" = 5\n";
        let keys = keys(text, true);
        let line = |p: &str| keys.iter().find(|(k, _)| k == p).map(|(_, l)| *l);
        assert_eq!(line("result_path"), Some(1));
        assert_eq!(line("params.threads_x"), Some(2));
        assert_eq!(line("params.max_p99_us"), Some(2));
        assert_eq!(line("rate"), Some(3));
        assert_eq!(line("limits.min_throughput"), Some(4));
        assert_eq!(line("limits.max_p99_us"), Some(7));
        assert_eq!(line("limits.max_p99_us_by_rule.Get"), Some(10));
        assert_eq!(keys.iter().filter(|(k, _)| k == "rate").count(), 1);
        assert_eq!(line("x"), None);
    }
}

//! Python's `shlex.split` (POSIX mode), used for `journalmatch` lines.

/// Splits like `shlex.split(s)`; the error text is upstream's `ValueError` message.
pub fn shlex_split(s: &str) -> Result<Vec<String>, String> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut out = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    // ' ' = between tokens, 'a' = in word, '\'' / '"' = in quotes, '\\' = escape
    let mut state = ' ';
    let mut escaped_state = 'a';
    let mut chars = s.chars();
    loop {
        let next = chars.next();
        match state {
            ' ' => match next {
                None => break,
                Some(c) if ws(c) => {
                    if !token.is_empty() || quoted {
                        out.push(std::mem::take(&mut token));
                        quoted = false;
                    }
                }
                Some('\\') => {
                    escaped_state = 'a';
                    state = '\\';
                }
                Some(c @ ('\'' | '"')) => state = c,
                Some(c) => {
                    token.push(c);
                    state = 'a';
                }
            },
            '\'' | '"' => {
                quoted = true;
                match next {
                    None => return Err("No closing quotation".into()),
                    Some(c) if c == state => state = 'a',
                    Some('\\') if state == '"' => {
                        escaped_state = state;
                        state = '\\';
                    }
                    Some(c) => token.push(c),
                }
            }
            '\\' => {
                let Some(c) = next else {
                    return Err("No escaped character".into());
                };
                if (escaped_state == '\'' || escaped_state == '"')
                    && c != '\\'
                    && c != escaped_state
                {
                    token.push('\\');
                }
                token.push(c);
                state = escaped_state;
            }
            _ => match next {
                None => break,
                Some(c) if ws(c) => {
                    state = ' ';
                    if !token.is_empty() || quoted {
                        out.push(std::mem::take(&mut token));
                        quoted = false;
                    }
                }
                Some(c @ ('\'' | '"')) => state = c,
                Some('\\') => {
                    escaped_state = 'a';
                    state = '\\';
                }
                Some(c) => token.push(c),
            },
        }
    }
    if !token.is_empty() || quoted {
        out.push(token);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::shlex_split;

    #[test]
    fn posix_split() {
        assert_eq!(
            shlex_split("_SYSTEMD_UNIT=sshd.service + _COMM=sshd").unwrap(),
            ["_SYSTEMD_UNIT=sshd.service", "+", "_COMM=sshd"]
        );
        assert_eq!(
            shlex_split(r#"a "b c" 'd\e' "f\"g" h\ i ''"#).unwrap(),
            ["a", "b c", "d\\e", "f\"g", "h i", ""]
        );
        assert!(shlex_split("a 'b").is_err());
        assert!(shlex_split("a \\").is_err());
    }
}

//! `$TARGET$`, `$PORT$` and `$MODE$` expansion in the KILL_* templates (1.2's
//! SubstString: every occurrence, case-sensitive, in that order; 1024-byte limit).

/// 1.2's MAXBUF.
const MAXBUF: usize = 1024;

/// Why an expansion failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubstError {
    /// `$TARGET$` is required (KILL_ROUTE, KILL_HOSTS_DENY) but absent.
    NoTarget,
    /// The result would exceed 1.2's buffer; names the macro.
    TooLong(&'static str),
}

fn subst(template: &str, find: &'static str, replace: &str) -> Result<(String, usize), SubstError> {
    let n = template.matches(find).count();
    if n == 0 {
        return Ok((template.to_owned(), 0));
    }
    if template.len() + replace.len() + find.len() > MAXBUF {
        return Err(SubstError::TooLong(find));
    }
    Ok((template.replace(find, replace), n))
}

/// Expands a template; `need_target` makes a missing `$TARGET$` an error.
pub fn expand(
    template: &str,
    target: &str,
    port: u16,
    mode: &str,
    need_target: bool,
) -> Result<String, SubstError> {
    let (s, n) = subst(template, "$TARGET$", target)?;
    if n == 0 && need_target {
        return Err(SubstError::NoTarget);
    }
    let (s, _) = subst(&s, "$PORT$", &port.to_string())?;
    let (s, _) = subst(&s, "$MODE$", mode)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_table() {
        let cases: &[(&str, bool, Result<&str, SubstError>)] = &[
            ("ALL: $TARGET$ : DENY", true, Ok("ALL: 10.0.0.2 : DENY")),
            (
                "/bin/echo $TARGET$ $PORT$ $MODE$ $TARGET$",
                true,
                Ok("/bin/echo 10.0.0.2 11 atcp 10.0.0.2"),
            ),
            ("ALL: nobody", true, Err(SubstError::NoTarget)),
            ("/bin/true", false, Ok("/bin/true")),
            ("$target$ $PORT$", false, Ok("$target$ 11")),
        ];
        for (t, need, want) in cases {
            assert_eq!(
                expand(t, "10.0.0.2", 11, "atcp", *need)
                    .as_deref()
                    .map_err(|e| *e),
                *want,
                "{t}"
            );
        }
        let long = format!("$TARGET$ {}", "x".repeat(1020));
        assert_eq!(
            expand(&long, "1.2.3.4", 1, "tcp", true),
            Err(SubstError::TooLong("$TARGET$"))
        );
    }
}

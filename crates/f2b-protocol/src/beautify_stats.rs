//! The `fail2ban-client stats` table (fail2ban 1.1's `Beautifier`): one row per
//! jail with backend, current/total failures and current/total bans.

use crate::value::Value;

/// Box characters: vertical bar, horizontal line, tee, cross in the top rule, cross
/// in the middle rule, cross in the bottom rule, inner bar, inner line.
const ASCII: [&str; 8] = ["|", "-", "|", "x", "x", "-", "|", "-"];
const UTF8: [&str; 8] = [
    "\u{2551}", "\u{2550}", "\u{255F}", "\u{256B}", "\u{256C}", "\u{2569}", "\u{2502}", "\u{2500}",
];

fn pad(s: &str, width: usize, right: bool) -> String {
    let n = s.chars().count();
    let fill = " ".repeat(width.saturating_sub(n));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// `{jail: [backend, (cur_failed, tot_failed), (cur_banned, tot_banned)]}` as a table;
/// `None` when the reply does not have that shape.
pub(crate) fn stats_table(response: &Value, utf8: bool) -> Option<String> {
    let ct = if utf8 { UTF8 } else { ASCII };
    let Value::Dict(jails) = response else {
        return None;
    };
    let mut rows: Vec<[String; 6]> = Vec::new();
    for (name, r) in jails {
        let r = r.as_seq()?;
        let (f, a) = (r.get(1)?.as_seq()?, r.get(2)?.as_seq()?);
        if r.len() != 3 || f.len() != 2 || a.len() != 2 {
            return None;
        }
        rows.push([
            name.str_(),
            r[0].str_(),
            f[0].str_(),
            f[1].str_(),
            a[0].str_(),
            a[1].str_(),
        ]);
    }
    let minlens = [8, 8, 3, 3, 3, 3];
    let lens: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(minlens[i])
        })
        .collect();
    let cells = |c: [&str; 6]| -> String {
        let bar = format!(" {} ", ct[0]);
        [
            pad(c[0], lens[0], false),
            pad(c[1], lens[1], false),
            format!(
                "{} {} {}",
                pad(c[2], lens[2], true),
                ct[6],
                pad(c[3], lens[3], true)
            ),
            format!(
                "{} {} {}",
                pad(c[4], lens[4], true),
                ct[6],
                pad(c[5], lens[5], true)
            ),
        ]
        .join(&bar)
    };
    let tlens = [
        lens[0],
        lens[1],
        3 + lens[2] + lens[3],
        3 + lens[4] + lens[5],
    ];
    let bar = format!(" {} ", ct[0]);
    let top = [
        pad("", lens[0], false),
        pad("", lens[1], false),
        pad("Filter", tlens[2], false),
        pad("Actions", tlens[3], false),
    ]
    .join(&bar);
    let rule = |cross: &str, line: &str, widths: &[usize]| -> String {
        widths
            .iter()
            .map(|&n| line.repeat(n))
            .collect::<Vec<_>>()
            .join(&format!("{line}{cross}{line}"))
            + line
    };
    let head_sep = format!(
        "{}{}{}{}",
        [pad("Jail", lens[0], false), pad("Backend", lens[1], false)].join(&bar),
        format_args!(" {}{}", ct[2], ct[7]),
        rule(ct[3], ct[7], &tlens[2..]),
        "",
    );
    let mut out = vec![
        format!(" {top}"),
        format!(" {head_sep}"),
        format!(" {}", cells(["", "", "cur", "tot", "cur", "tot"])),
        format!("{}{}", ct[1], rule(ct[4], ct[1], &tlens)),
    ];
    for r in &rows {
        out.push(format!(
            " {}",
            cells([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]])
        ));
    }
    out.push(format!("{}{}", ct[1], rule(ct[5], ct[1], &tlens)));
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_table_layout() {
        let stats = Value::dict([(
            "sshd",
            Value::list(vec![
                Value::str("polling"),
                Value::tuple([Value::Int(1), Value::Int(12)]),
                Value::tuple([Value::Int(0), Value::Int(3)]),
            ]),
        )]);
        // Worked out by hand from the 1.1 formatting rules (min widths 8/8/3/3/3/3).
        let want = [
            "          |          | Filter    | Actions  ",
            " Jail     | Backend  |-----------x-----------",
            "          |          | cur | tot | cur | tot",
            "----------x----------x-----------x-----------",
            " sshd     | polling  |   1 |  12 |   0 |   3",
            "---------------------------------------------",
        ]
        .join("\n");
        assert_eq!(stats_table(&stats, false).unwrap(), want);
    }
}

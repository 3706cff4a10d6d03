//! `Filter::process_lines` (searches on several threads) gives what
//! `process_line` gives line by line, including the multi-line state that
//! crosses the threads' chunks (a session id merged with `F-MLFID`).

use f2b_filter::{Filter, FilterBuilder, LineResult};

/// Our own sshd-like filter: a prefregex with a session id and content, a
/// failregex with a conditional and a look-ahead (guarded linear form), one
/// that only remembers the address of a session, and one using it later.
fn filter() -> Filter {
    let mut f = FilterBuilder::new()
        .prefregex(Some(r"^\s*<F-MLFID>\S+ authd\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$"))
        .failregexes(&[
            r"^Bad (?:(?P<nofail>key)|\S+) for (?P<inv>bogus user )?<F-USER>(?P<cu>\S+)|(?(inv)(?:(?! from ).)*?|[^:]+)</F-USER> from <HOST>(?: port \d+)?(?(cu): |(?:(?:(?! from ).)*)$)",
            r"^<F-NOFAIL>Hello</F-NOFAIL> from <HOST>",
            r"^<F-MLFFORGET>Bye</F-MLFFORGET> user <F-USER>\S+</F-USER>$",
        ])
        .build()
        .expect("filter builds");
    f.check_find_time = false;
    f.check_all_regex = true;
    f.ignore_pending = false;
    f
}

fn key(r: &LineResult) -> String {
    format!(
        "{:?} {:?} {}",
        r.failures
            .iter()
            .map(|f| (&f.id, f.time, f.regex, &f.data))
            .collect::<Vec<_>>(),
        r.ignored_by,
        r.stripped
    )
}

#[test]
fn batches_on_threads_equal_line_by_line() {
    let mut lines = Vec::new();
    let mut seed = 7u64;
    let mut rnd = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 0..3000u64 {
        let pid = 100 + rnd(40);
        let ip = format!("198.51.100.{}", rnd(20));
        let msg = match rnd(6) {
            0 => format!("Hello from {ip}"),
            1 => format!("Bad password for root from {ip} port {}", 1000 + i),
            2 => format!("Bad password for bogus user x from y from {ip} port 22 z"),
            3 => format!("Bad key for admin from {ip}: "),
            4 => "Bye user root".to_string(),
            _ => format!("unrelated line {i}"),
        };
        lines.push(format!(
            "Nov 24 {:02}:{:02}:{:02} web01 authd[{pid}]: {msg}",
            i / 3600,
            (i / 60) % 60,
            i % 60
        ));
    }
    let now = 1_800_000_000.0;
    let mut one = filter();
    let want: Vec<String> = lines
        .iter()
        .map(|l| key(&one.process_line(l, now)))
        .collect();
    assert!(want.iter().filter(|k| k.contains("Some(\"198.51")).count() > 500);
    for threads in [1, 2, 4] {
        let mut f = filter();
        let mut got = Vec::new();
        for batch in lines.chunks(700) {
            got.extend(f.process_lines(batch, now, threads).iter().map(key));
        }
        assert_eq!(got, want, "{threads} threads");
    }
}

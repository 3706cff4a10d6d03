//! Prints the lines of a journal as fail2ban-regex reads them:
//! `cargo run -p f2b-journal --example dump -- journalfiles=/path/x.journal [MATCH...]`
//! (the first argument holds comma-separated backend options; further arguments are
//! journalmatch words, `+` between OR groups; the pseudo-option `encoding=latin-1`
//! selects the jail encoding). Each line: time, tab, ISO date, space, line.

use f2b_journal::{EntryFormatter, JournalArgs, JournalReader};
use f2b_tail::Encoding;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv = std::env::args().skip(1);
    let opts: Vec<(String, String)> = argv
        .next()
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let words: Vec<String> = argv.collect();
    let latin1 = opts
        .iter()
        .any(|(k, v)| k == "encoding" && v.to_lowercase().starts_with("latin"));
    let opts: Vec<_> = opts.into_iter().filter(|(k, _)| k != "encoding").collect();
    let enc = if latin1 {
        Encoding::Latin1
    } else {
        Encoding::Utf8
    };
    let args = JournalArgs::from_options(&opts)?;
    let mut r = JournalReader::open(&args, EntryFormatter::local(enc))?;
    if !words.is_empty() {
        r.add_match(&words)?;
    }
    for l in r {
        // Python's repr of a float keeps ".0" on whole numbers
        let t = if l.time.fract() == 0.0 {
            format!("{:.1}", l.time)
        } else {
            l.time.to_string()
        };
        println!("{t}\t{}", l.joined());
    }
    Ok(())
}

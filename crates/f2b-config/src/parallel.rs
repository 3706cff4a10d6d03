//! Reading and converting jails on two threads (used by
//! [`Configurator::read_convert`](crate::Configurator::read_convert)).
//!
//! Each thread gets its own reading context and its own copy of the merged jail
//! config. That is sound because a jail only changes its own section (`known/*`)
//! and the configs it shares with the others are read-only. Each jail's results and
//! log records are returned per phase, so the caller can replay them in jail order
//! and stop at the first fatal error exactly where the sequential reader would.

use f2b_ini::{Config, Diag};
use f2b_protocol::Value;

use crate::ctx::Ctx;
use crate::error::Error;
use crate::jail::JailReader;

/// Below this many jail sections one thread is faster.
pub const MIN_JAILS: usize = 16;

/// What reading a jail section gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Not enabled.
    Disabled,
    /// Enabled and read.
    Enabled,
    /// Enabled with a definition error (a `config-error` command).
    Broken,
}

/// One jail's results and log records, per phase.
#[derive(Debug)]
pub struct Outcome {
    /// Section name.
    pub name: String,
    /// Log records of the read phase.
    pub read_diags: Vec<Diag>,
    /// Read result (`Err` = fatal for the whole configuration).
    pub read: Result<Kind, Error>,
    /// Log records of the convert phase.
    pub convert_diags: Vec<Diag>,
    /// The jail's commands (`None` if never converted).
    pub converted: Option<Result<Vec<Value>, Error>>,
}

/// True when some jail option refers to another section's `known/` options, which
/// only exist after that jail was read (then the order matters: stay sequential).
pub fn cross_refs(cfg: &Config) -> bool {
    let has = |v: &str| v.contains("%(") && v.contains("/known/");
    cfg.defaults().iter().any(|(_, o)| has(&o.value))
        || cfg
            .sections()
            .filter_map(|s| cfg.section(s))
            .any(|sec| sec.iter().any(|(_, o)| has(&o.value)))
}

fn work(basedir: &str, mut cfg: Config, sections: &[String], allow_no_files: bool) -> Vec<Outcome> {
    let mut ctx = Ctx::new(basedir);
    let mut out: Vec<Outcome> = Vec::with_capacity(sections.len());
    let mut readers: Vec<(usize, JailReader)> = Vec::new();
    for sec in sections {
        let r = JailReader::read(&mut ctx, &mut cfg, sec);
        let read_diags = std::mem::take(&mut ctx.diags().records);
        let read = match r {
            Ok(j) => {
                let kind = if j.config_error.is_some() {
                    Kind::Broken
                } else if j.is_enabled() {
                    Kind::Enabled
                } else {
                    Kind::Disabled
                };
                if kind != Kind::Disabled {
                    readers.push((out.len(), j));
                }
                Ok(kind)
            }
            Err(e) => Err(e),
        };
        let fatal = read.is_err();
        out.push(Outcome {
            name: sec.clone(),
            read_diags,
            read,
            convert_diags: Vec::new(),
            converted: None,
        });
        if fatal {
            return out;
        }
    }
    for (i, mut j) in readers {
        let r = j.convert(&mut ctx, allow_no_files);
        out[i].convert_diags = std::mem::take(&mut ctx.diags().records);
        let failed = r.is_err();
        out[i].converted = Some(r);
        if failed {
            break;
        }
    }
    // readers and caches are dropped with the thread's context; skip the cost
    std::mem::forget(ctx);
    out
}

/// Reads and converts `sections` of `cfg` on two threads; outcomes in section order.
pub fn run(basedir: &str, cfg: Config, sections: &[String], allow_no_files: bool) -> Vec<Outcome> {
    let mid = sections.len() / 2;
    let (first, second) = sections.split_at(mid);
    let cfg2 = cfg.clone();
    std::thread::scope(|s| {
        let h = s.spawn(|| work(basedir, cfg2, second, allow_no_files));
        let mut a = work(basedir, cfg, first, allow_no_files);
        match h.join() {
            Ok(b) => a.extend(b),
            Err(p) => std::panic::resume_unwind(p),
        }
        a
    })
}

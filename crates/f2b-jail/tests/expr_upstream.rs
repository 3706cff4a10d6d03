//! The bantime expression evaluator vs Python's own `eval` on generated
//! expressions: same value and type (int vs float), or both failing.
//! Python ints are unbounded; results beyond i64 must be an error for us.

#[allow(dead_code)] // not every test binary uses every helper
mod common;

use common::{run_py, Lcg};
use f2b_jail::expr::{Expr, Vars};
use f2b_jail::PyNum;
use serde_json::json;

const PY: &str = r#"
import json, sys, math
class Ban:
    Time = 600
    Count = 3
out = []
for src in json.load(sys.stdin):
    try:
        r = eval('(' + src + ') + 0', {'math': math, 'ban': Ban, 'banFactor': 2})
        if isinstance(r, int) and abs(r) >= 2**63:
            out.append(['big'])
        elif isinstance(r, float) and (r != r or r in (float('inf'), float('-inf'))):
            out.append(['nonfinite'])
        else:
            out.append([type(r).__name__, repr(r)])
    except Exception as e:
        out.append(['error'])
print(json.dumps(out))
"#;

fn gen(rng: &mut Lcg, depth: u32) -> String {
    if depth == 0 || rng.below(4) == 0 {
        return match rng.below(8) {
            0 => "ban.Time".into(),
            1 => "ban.Count".into(),
            2 => "banFactor".into(),
            3 => format!("{}.{}", rng.below(20), rng.below(10)),
            4 => "0".into(),
            _ => format!("{}", rng.below(40)),
        };
    }
    let a = gen(rng, depth - 1);
    let b = gen(rng, depth - 1);
    match rng.below(16) {
        0 => format!("({a} + {b})"),
        1 => format!("({a} - {b})"),
        2 => format!("({a} * {b})"),
        3 => format!("({a} / {b})"),
        4 => format!("({a} // {b})"),
        5 => format!("({a} % {b})"),
        6 => format!("({a} ** {})", rng.below(5)),
        7 => format!("({a} << {})", rng.below(8)),
        8 => format!("({a} < {b} <= {})", rng.below(30)),
        9 => format!("({a} if {b} > 5 else -{a})"),
        10 => format!("max({a}, {b})"),
        11 => format!("min({a}, {b}, 7)"),
        12 => format!("({a} and {b})"),
        13 => format!("(not {a} or {b})"),
        14 => format!("math.floor({a})"),
        _ => format!("abs(-{a})"),
    }
}

#[test]
fn expressions_match_python_eval() {
    let mut exprs: Vec<String> = Vec::new();
    for seed in [2024, 1, 7, 99] {
        let mut rng = Lcg(seed);
        exprs.extend((0..600).map(|_| gen(&mut rng, 4)));
    }
    let Some(up) = run_py(PY, &json!(exprs)) else {
        return;
    };
    let vars = Vars {
        time: PyNum::Int(600),
        count: 3,
        factor: PyNum::Int(2),
    };
    let (mut compared, mut overflow) = (0, 0);
    for (i, src) in exprs.iter().enumerate() {
        let mine = Expr::parse(&format!("({src}) + 0"))
            .expect("generated expressions parse")
            .eval(&vars);
        let theirs = &up[i];
        match (theirs[0].as_str().unwrap(), mine) {
            ("big", r) => assert!(r.is_err(), "{src}: python overflowed i64, we gave {r:?}"),
            ("error", r) => assert!(r.is_err(), "{src}: python failed, we gave {r:?}"),
            ("nonfinite", _) => {}
            (ty, Ok(v)) => {
                let want = theirs[1].as_str().unwrap();
                let got_ty = if v.is_float() { "float" } else { "int" };
                assert_eq!((got_ty, v.to_string().as_str()), (ty, want), "{src}");
                compared += 1;
            }
            // documented limit: ints are i64, Python's intermediate bigints are not
            (_, Err(e)) if e.to_string() == "integer overflow" => overflow += 1,
            (_, Err(e)) => panic!("{src}: we failed ({e}) but python gave {theirs}"),
        }
    }
    assert!(compared > 1200, "only {compared} values compared");
    assert!(overflow < 20, "{overflow} overflows");
}

//! `MyTime.str2seconds` for command arguments: numbers pass through, strings are
//! evaluated like upstream (`10m`, `1h 30m`, `1mo` → a float).

use f2b_protocol::Value;

use crate::error::CmdError;

/// Converts a time argument to seconds, keeping Python's int/float distinction.
pub fn str2seconds(v: &Value) -> Result<Value, CmdError> {
    match v {
        Value::Int(_) | Value::Float(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        other => {
            let s = crate::error::text(other);
            match f2b_config::time::str2seconds_num(&s) {
                Ok(f2b_config::time::Num::Int(i)) => Ok(Value::Int(i as i64)),
                Ok(f2b_config::time::Num::Float(f)) => Ok(Value::Float(f)),
                Err(e) => Err(CmdError::exception(e.to_string())),
            }
        }
    }
}

/// The value as f64 seconds.
pub fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_int_float_distinction() {
        assert_eq!(str2seconds(&Value::str("10m")).unwrap(), Value::Int(600));
        assert_eq!(
            str2seconds(&Value::str("1h 30m")).unwrap(),
            Value::Int(5400)
        );
        assert!(matches!(
            str2seconds(&Value::str("1mo")).unwrap(),
            Value::Float(_)
        ));
        assert_eq!(str2seconds(&Value::Int(-1)).unwrap(), Value::Int(-1));
        assert!(str2seconds(&Value::str("abc")).is_err());
    }
}

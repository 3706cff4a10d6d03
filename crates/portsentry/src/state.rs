//! 1.2's scan-trigger state engine: a ring of the last 50 event sources shared by all
//! hosts. An event triggers when `1 + (earlier occurrences of its host in the ring)`
//! reaches `SCAN_TRIGGER`; 0 and 1 both trigger at once.

use std::net::IpAddr;

/// Ring capacity (1.2's MAXSTATE).
pub const MAX_STATE: usize = 50;

/// The ring.
#[derive(Debug, Clone)]
pub struct StateEngine {
    trigger: u32,
    ring: [Option<IpAddr>; MAX_STATE],
    next: usize,
}

/// What one event does to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// React to this event.
    pub triggered: bool,
    /// `SCAN_TRIGGER` exceeds the ring: log the warning (the event triggers).
    pub over_capacity: bool,
}

impl StateEngine {
    /// An empty ring for `SCAN_TRIGGER = trigger`.
    pub fn new(trigger: u32) -> Self {
        StateEngine {
            trigger,
            ring: [None; MAX_STATE],
            next: 0,
        }
    }

    /// Records one event from `ip`.
    pub fn event(&mut self, ip: IpAddr) -> Outcome {
        if self.trigger > MAX_STATE as u32 {
            return Outcome {
                triggered: true,
                over_capacity: true,
            };
        }
        if self.trigger == 0 {
            return Outcome {
                triggered: true,
                over_capacity: false,
            };
        }
        let hits = 1 + self.ring.iter().filter(|s| **s == Some(ip)).count() as u32;
        self.ring[self.next] = Some(ip);
        self.next = (self.next + 1) % MAX_STATE;
        Outcome {
            triggered: hits >= self.trigger,
            over_capacity: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn trigger_counts_per_host_with_eviction() {
        // (trigger, event sources, expected triggered flags)
        let a = "10.0.0.1";
        let b = "10.0.0.2";
        let cases: Vec<(u32, Vec<&str>, Vec<bool>)> = vec![
            (0, vec![a, a], vec![true, true]),
            (1, vec![a, b], vec![true, true]),
            (2, vec![a, b, a, a], vec![false, false, true, true]),
            (3, vec![a, a, b, a], vec![false, false, false, true]),
        ];
        for (t, events, want) in cases {
            let mut s = StateEngine::new(t);
            let got: Vec<bool> = events.iter().map(|e| s.event(ip(e)).triggered).collect();
            assert_eq!(got, want, "trigger {t}");
        }
        // 50 other hosts evict the first sighting
        let mut s = StateEngine::new(2);
        assert!(!s.event(ip(a)).triggered);
        for i in 0..50 {
            s.event(ip(&format!("10.1.0.{i}")));
        }
        assert!(!s.event(ip(a)).triggered);
        let o = StateEngine::new(51).event(ip(a));
        assert!(o.triggered && o.over_capacity);
    }
}

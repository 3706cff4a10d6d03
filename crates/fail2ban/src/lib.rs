//! Thin binaries with upstream's names live in `src/bin/`; this library only holds
//! what they share (exit-code mapping).

#![deny(missing_docs)]

/// Upstream's exit code for any error (`sys.exit(255)` / `-1`).
pub const EXIT_ERROR: i32 = 255;

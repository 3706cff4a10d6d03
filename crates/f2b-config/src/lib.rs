//! fail2ban's typed configuration layer (work in progress).
#![deny(missing_docs)]

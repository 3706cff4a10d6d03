//! fail2ban-client library (work in progress).
#![deny(missing_docs)]

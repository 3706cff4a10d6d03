//! Log file followers (work in progress).

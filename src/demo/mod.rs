//! Demo outlets (skeleton).

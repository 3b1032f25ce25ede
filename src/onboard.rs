//! Onboard, layer 5 (orchestration): adds an outlet by its address.

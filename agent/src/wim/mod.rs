//! The small safe layer over wimlib-sys, shared by the agent and the media builder.

//! kratos-rs facade (placeholder).

//! kratos-config behaviour: file hot reload, merge order and placeholders,
//! errors at start.

mod errors;
mod file;
mod merge;

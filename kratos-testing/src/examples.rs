//! [`example_binary`]: where `cargo test` put the workspace's examples.

use std::path::PathBuf;

/// The example binary `name` that `cargo test` built next to the running
/// test binary (`target/<profile>/examples/<name>`), for tests that run the
/// examples as processes.
pub fn example_binary(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().expect("the test binary's path");
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(name)
}

//! The `kratos` command; see the kratos-cli crate's documentation.

fn main() -> std::process::ExitCode {
    kratos_cli::run()
}

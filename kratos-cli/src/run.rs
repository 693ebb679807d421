//! `kratos run`: `cargo run` of the project's binary with its config.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::cli::RunArgs;
use crate::error::Error;

/// The config directory of a `kratos new` project, passed as `--conf`.
const CONF_DIR: &str = "configs";

/// The `cargo run` command for `args`, in the current directory.
pub(crate) fn command(args: &RunArgs) -> Result<Command, Error> {
    if !Path::new("Cargo.toml").is_file() {
        return Err(Error::new(
            "no Cargo.toml here: run kratos run in the project's directory (the one kratos new made)",
        ));
    }
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.arg("run");
    if let Some(name) = &args.name {
        cargo.args(["--bin", name]);
    }
    cargo.arg("--");
    let has_conf = args.args.iter().any(|a| a == "--conf" || a == "-conf");
    if !has_conf {
        if !Path::new(CONF_DIR).is_dir() {
            return Err(Error::new(format!(
                "no {CONF_DIR}/ here: the service reads its config from it; pass another with kratos run -- --conf PATH"
            )));
        }
        cargo.args(["--conf", CONF_DIR]);
    }
    cargo.args(&args.args);
    Ok(cargo)
}

/// `kratos run`: cargo takes this process's place, so signals (Ctrl-C,
/// SIGTERM) reach the service as if it had been started directly.
pub(crate) fn run(args: &RunArgs) -> Result<ExitCode, Error> {
    let mut cargo = command(args)?;
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let err = cargo.exec();
        Err(Error::new(format!(
            "cannot run cargo: {err}; is it on PATH?"
        )))
    }
    #[cfg(not(unix))]
    {
        let status = cargo
            .status()
            .map_err(|err| Error::new(format!("cannot run cargo: {err}; is it on PATH?")))?;
        Ok(status
            .code()
            .map_or(ExitCode::FAILURE, |c| ExitCode::from(c as u8)))
    }
}

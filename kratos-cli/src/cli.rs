//! The commands and their arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;

/// The kratos-rs toolkit: new projects, protos, service stubs, run.
#[derive(Debug, Parser)]
#[command(name = "kratos", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a service project (kratos-layout adapted to Rust) in NAME/.
    #[command(
        after_help = "Then: cd NAME && kratos run (or cargo run -- --conf configs), and cargo test."
    )]
    New(NewArgs),
    /// Add a .proto, or write the service stubs of one.
    #[command(subcommand)]
    Proto(ProtoCommand),
    /// Run the project's binary with its config: cargo run -- --conf configs.
    Run(RunArgs),
}

/// `kratos new`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The project's name: its directory, crate and binary (letters, digits,
    /// `-` and `_`, starting with a letter).
    pub(crate) name: String,
    /// The registry the service registers in: sets the kratos-rs feature
    /// and the `registry` of configs/config.yaml.
    #[arg(long, short, value_enum, default_value_t = Registry::Memory)]
    pub(crate) registry: Registry,
    /// The directory to create NAME/ in.
    #[arg(long, short, value_name = "DIR", default_value = ".")]
    pub(crate) path: PathBuf,
    /// Depend on the kratos-rs checkout in DIR (and DIR/kratos-build) by path
    /// instead of the version of this command.
    #[arg(long, value_name = "DIR")]
    pub(crate) kratos_path: Option<PathBuf>,
}

/// The registries a new project can build in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Registry {
    /// In this process only: nothing to install.
    Memory,
    /// etcd (the kratos-rs feature `etcd`; building it needs `protoc`).
    Etcd,
    /// Consul (the kratos-rs feature `consul`).
    Consul,
}

impl Registry {
    /// The name in config and feature lists.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Etcd => "etcd",
            Self::Consul => "consul",
        }
    }
}

#[derive(Debug, Subcommand)]
enum ProtoCommand {
    /// Write a .proto with Create/Update/Delete/Get/List and HTTP rules; its
    /// package follows PATH (api/helloworld/v1/demo.proto: api.helloworld.v1).
    Add(ProtoAddArgs),
    /// Write a Rust file per service of a .proto, implementing its generated
    /// trait with stubs answering 501 NOT_IMPLEMENTED, and wire it in.
    Server(ProtoServerArgs),
}

/// `kratos proto add`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProtoAddArgs {
    /// The new file, under api/, such as api/helloworld/v1/demo.proto.
    pub(crate) path: PathBuf,
}

/// `kratos proto server`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProtoServerArgs {
    /// The .proto whose services to implement (imports relative to the
    /// current directory, as build.rs compiles them).
    pub(crate) path: PathBuf,
    /// Where to write the files.
    #[arg(
        long = "target-dir",
        short = 't',
        value_name = "DIR",
        default_value = "src/service"
    )]
    pub(crate) target_dir: PathBuf,
}

/// `kratos run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The binary to run, when the project has several.
    pub(crate) name: Option<String>,
    /// Arguments for the program, after `--`.
    #[arg(last = true)]
    pub(crate) args: Vec<String>,
}

/// Runs the command `cli` names.
pub(crate) fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::New(args) => crate::new::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Proto(ProtoCommand::Add(args)) => {
            crate::proto::add(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Proto(ProtoCommand::Server(args)) => {
            crate::proto::server(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Run(args) => crate::run::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn new_takes_its_options() {
        let cli = Cli::try_parse_from([
            "kratos",
            "new",
            "demo",
            "--registry",
            "etcd",
            "--path",
            "/tmp",
        ])
        .unwrap();
        let Command::New(args) = cli.command else {
            panic!("not new: {cli:?}")
        };
        assert_eq!(args.name, "demo");
        assert_eq!(args.registry, Registry::Etcd);
        assert_eq!(args.path, PathBuf::from("/tmp"));
        assert!(Cli::try_parse_from(["kratos", "new", "demo", "--registry", "zookeeper"]).is_err());
    }

    #[test]
    fn run_passes_arguments_after_the_double_dash() {
        let cli = Cli::try_parse_from(["kratos", "run", "demo", "--", "--conf", "x.yaml"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run: {cli:?}")
        };
        assert_eq!(args.name.as_deref(), Some("demo"));
        assert_eq!(args.args, ["--conf", "x.yaml"]);
    }
}

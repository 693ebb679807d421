//! The `kratos` command of [kratos-rs](https://docs.rs/kratos-rs), as Go
//! Kratos users know it: a new project, protos, service stubs, run.
//!
//! ```sh
//! cargo install kratos-cli
//! kratos new helloworld && cd helloworld
//! kratos run                                     # cargo run -- --conf configs
//! kratos proto add api/helloworld/v1/demo.proto  # a CRUD service with HTTP rules
//! kratos proto server api/helloworld/v1/demo.proto
//! ```
//!
//! # `kratos new NAME`
//!
//! Writes `NAME/` (in `--path DIR`, default the current directory), a
//! project in the shape of Go Kratos's kratos-layout, adapted to Rust:
//!
//! ```text
//! api/NAME/v1/greeter.proto   the API: HTTP annotations, an ErrorReason enum
//! build.rs                    kratos-build compiles every .proto under api/
//! src/main.rs                 --conf configs → config → App::run
//! src/lib.rs                  wire_app: data → biz → service → servers → App
//! src/{api.rs,conf.rs}        the generated code; the typed config
//! src/{service,biz,data,server}/  one module per layer
//! configs/config.yaml         addresses, database, registry, logs
//! tests/greeter.rs            the greeter over HTTP and gRPC, on free ports
//! Dockerfile, deploy/k8s/     the image and its Kubernetes manifests
//! ```
//!
//! The project depends on `kratos-rs` and `kratos-build` of this command's
//! version (or, with `--kratos-path DIR`, on the checkout in `DIR`), and
//! `--registry etcd|consul` builds that registry in (the kratos-rs feature
//! and the `registry` of the config; default `memory`). An existing
//! directory is never written to.
//!
//! # `kratos proto add PATH`
//!
//! Writes a `.proto` with `Create`, `Update`, `Delete`, `Get` and `List`
//! methods, each with an HTTP rule; its package follows the path
//! (`api/helloworld/v1/demo.proto` is `api.helloworld.v1`, service `Demo`),
//! as in Go Kratos. `build.rs` compiles it with no change; for a package
//! new to the project the module goes into `src/api.rs`. An existing file
//! is never overwritten.
//!
//! # `kratos proto server PATH [-t DIR]`
//!
//! Reads the `.proto` (with [protox](https://docs.rs/protox): imports are
//! resolved, nothing is guessed) and writes, for each service, a file in
//! `DIR` (default `src/service`) implementing its generated trait, every
//! method answering the Kratos error 501 `NOT_IMPLEMENTED` (gRPC
//! `UNIMPLEMENTED`) until it is written. In a project of `kratos new` the
//! file is also wired: its `mod` line, and its registration on both
//! servers in `wire_app`; elsewhere the command prints the lines to add.
//!
//! # `kratos run [NAME]`
//!
//! `cargo run [--bin NAME] -- --conf configs [ARGS…]` in the project's
//! directory.
//!
//! # Feature Flags
//!
//! None: the command has no optional parts, and the registry of a new
//! project is chosen with `--registry`, not a feature of this crate.
//!
//! # Structure
//!
//! The `kratos` binary (`src/main.rs`) calls [`run`]; the rest is private:
//!
//! - `cli.rs`: the commands and their arguments (clap).
//! - `new.rs`: `kratos new` and the project template (`templates/new/`).
//! - `proto.rs`: `kratos proto add` and `kratos proto server`.
//! - `run.rs`: `kratos run`.
//! - `names.rs`: what a name, module or path may be, and the Rust names
//!   tonic and prost derive from proto names.
//! - `template.rs`: `{{key}}` replacement, refusing unknown keys.
//!
//! Templates are files of this crate (`templates/`), compiled in with
//! `include_str!`.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cli;
mod error;
mod names;
mod new;
mod proto;
mod run;
mod template;

use std::process::ExitCode;

use clap::Parser;

/// Runs the `kratos` command with this process's arguments: what the
/// `kratos` binary's `main` does. Errors are printed to stderr after
/// `error: `, with exit code 1; `--help` and usage errors are clap's.
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

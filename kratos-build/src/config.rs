//! [`Builder`]: the options of one code generation run.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use prost::Message;
use prost_reflect::DescriptorPool;

use crate::model::{self, Package};
use crate::{errors_gen, grpc_gen, openapi, router_gen};

/// The shipped `google/api/annotations.proto`.
const ANNOTATIONS_PROTO: &str = include_str!("../proto/google/api/annotations.proto");
/// The shipped `google/api/http.proto`.
const HTTP_PROTO: &str = include_str!("../proto/google/api/http.proto");
/// The shipped `errors/errors.proto` (Go Kratos's error annotations).
const ERRORS_PROTO: &str = include_str!("../proto/errors/errors.proto");

/// The protos kratos-build ships, by include path.
pub const SHIPPED_PROTOS: &[(&str, &str)] = &[
    ("google/api/annotations.proto", ANNOTATIONS_PROTO),
    ("google/api/http.proto", HTTP_PROTO),
    ("errors/errors.proto", ERRORS_PROTO),
];

/// Where the facade re-exports what generated code names.
const FACADE_DEPENDENCIES: &str = "::kratos::__codegen";

/// Configures and runs the code generator; made by [`configure`](crate::configure).
///
/// Defaults: messages, tonic server and client, HTTP router and client, error
/// helpers and OpenAPI all on; JSON with lowerCamelCase names, zero values
/// emitted (as Go Kratos), unknown fields ignored; the generated code calls
/// the facade (`::kratos::http::codegen`, and prost, tonic, serde, pbjson
/// through `::kratos::__codegen`), so a service depends on `kratos-rs`
/// alone; [`without_facade`](Self::without_facade) for crates that depend
/// on kratos-transport and those crates themselves.
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    pub(crate) out_dir: Option<PathBuf>,
    pub(crate) emit_zero_values: bool,
    pub(crate) proto_names: bool,
    pub(crate) ignore_unknown_fields: bool,
    pub(crate) build_server: bool,
    pub(crate) build_client: bool,
    pub(crate) http_server: bool,
    pub(crate) http_client: bool,
    pub(crate) errors: bool,
    pub(crate) openapi: bool,
    pub(crate) runtime_path: String,
    /// Where generated code finds prost, tonic, serde, pbjson, …: `None`
    /// for the crate's own dependencies.
    pub(crate) dependencies: Option<String>,
    pub(crate) well_known_types_path: String,
    pub(crate) extern_paths: Vec<(String, String)>,
    pub(crate) emit_rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            out_dir: None,
            emit_zero_values: true,
            proto_names: false,
            ignore_unknown_fields: true,
            build_server: true,
            build_client: true,
            http_server: true,
            http_client: true,
            errors: true,
            openapi: true,
            runtime_path: "::kratos::http::codegen".to_owned(),
            dependencies: Some(FACADE_DEPENDENCIES.to_owned()),
            well_known_types_path: format!("{FACADE_DEPENDENCIES}::pbjson_types"),
            extern_paths: Vec::new(),
            emit_rerun_if_changed: true,
        }
    }
}

impl Builder {
    /// Where to write the generated files; `$OUT_DIR` by default (so
    /// `tonic::include_proto!` finds them).
    pub fn out_dir(mut self, out_dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(out_dir.into());
        self
    }

    /// Emits every field in JSON, zero values included (`"page": 0`,
    /// `"name": ""`, `"items": []`, an unset message as `null`), as Go Kratos
    /// does with `protojson.MarshalOptions{EmitUnpopulated: true}`. On by
    /// default; `false` gives plain proto3 JSON, which omits fields holding
    /// their zero value (a reply with `total = 0` has no `total` key).
    pub fn emit_zero_values(mut self, enable: bool) -> Self {
        self.emit_zero_values = enable;
        self
    }

    /// Emits the proto field names (`user_id`) instead of the lowerCamelCase
    /// JSON names (`userId`). Both are always accepted when decoding.
    pub fn preserve_proto_field_names(mut self, enable: bool) -> Self {
        self.proto_names = enable;
        self
    }

    /// Ignores unknown JSON fields when decoding (the default, as Go Kratos's
    /// codec does); `false` rejects them.
    pub fn ignore_unknown_fields(mut self, enable: bool) -> Self {
        self.ignore_unknown_fields = enable;
        self
    }

    /// Generates the tonic server (default `true`).
    pub fn build_server(mut self, enable: bool) -> Self {
        self.build_server = enable;
        self
    }

    /// Generates the tonic client (default `true`).
    pub fn build_client(mut self, enable: bool) -> Self {
        self.build_client = enable;
        self
    }

    /// Generates `<service>_http::router` (default `true`; needs the tonic
    /// server).
    pub fn build_http_server(mut self, enable: bool) -> Self {
        self.http_server = enable;
        self
    }

    /// Generates `<service>_http::<Service>HttpClient` (default `true`).
    pub fn build_http_client(mut self, enable: bool) -> Self {
        self.http_client = enable;
        self
    }

    /// Generates the error helpers of enums annotated with
    /// `(errors.default_code)` (default `true`).
    pub fn build_errors(mut self, enable: bool) -> Self {
        self.errors = enable;
        self
    }

    /// Generates `<package>.openapi.json` and the `OPENAPI_JSON` constant
    /// (default `true`).
    pub fn build_openapi(mut self, enable: bool) -> Self {
        self.openapi = enable;
        self
    }

    /// The Rust path of the runtime support module the generated code calls,
    /// `::kratos::http::codegen` (the facade's) by default.
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = path.into();
        self
    }

    /// The Rust path under which the generated code finds prost, tonic,
    /// tonic-prost, pbjson, pbjson-types, serde, serde_json, axum and http:
    /// `::kratos::__codegen` (the facade's re-exports) by default; `None`
    /// names them directly, for a crate that depends on each.
    pub fn dependencies(mut self, path: Option<&str>) -> Self {
        self.dependencies = path.map(str::to_owned);
        self
    }

    /// Generates code for a crate that depends on kratos-transport, prost,
    /// tonic, tonic-prost, pbjson, pbjson-types and serde itself instead of
    /// the `kratos-rs` facade (the runtime at
    /// `::kratos_transport::http::codegen`, the crates by their own names).
    pub fn without_facade(self) -> Self {
        self.runtime_path("::kratos_transport::http::codegen")
            .dependencies(None)
            .well_known_types_path("::pbjson_types")
    }

    /// The Rust path of the well-known types (`google.protobuf.*`), by
    /// default `::pbjson_types`, which have proto3 JSON support.
    pub fn well_known_types_path(mut self, path: impl Into<String>) -> Self {
        self.well_known_types_path = path.into();
        self
    }

    /// Uses an existing Rust type or module for a proto type or package
    /// (as `prost_build::Config::extern_path`); it must have the same serde
    /// support as the generated types.
    pub fn extern_path(
        mut self,
        proto_path: impl Into<String>,
        rust_path: impl Into<String>,
    ) -> Self {
        self.extern_paths
            .push((proto_path.into(), rust_path.into()));
        self
    }

    /// Prints `cargo:rerun-if-changed` for every compiled `.proto` (default
    /// `true`).
    pub fn emit_rerun_if_changed(mut self, enable: bool) -> Self {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// Compiles `protos` (paths relative to one of `includes`, or real
    /// paths below one of them) and writes `<package>.rs` (and
    /// `<package>.openapi.json`) for each package.
    pub fn compile(
        self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    io::Error::other("OUT_DIR is not set: run from a build script or set out_dir()")
                })?,
        };
        fs::create_dir_all(&out_dir)?;
        let shipped = out_dir.join("kratos-build-include");
        for (name, text) in SHIPPED_PROTOS {
            let path = shipped.join(name);
            fs::create_dir_all(path.parent().expect("shipped protos are in a directory"))?;
            if fs::read_to_string(&path).ok().as_deref() != Some(*text) {
                fs::write(&path, text)?;
            }
        }
        let mut all_includes: Vec<PathBuf> =
            includes.iter().map(|p| p.as_ref().to_path_buf()).collect();
        all_includes.push(shipped.clone());

        let mut compiler = protox::Compiler::new(&all_includes).map_err(io::Error::other)?;
        compiler.include_imports(true).include_source_info(true);
        compiler
            .open_files(protos.iter().map(|p| p.as_ref()))
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
        if self.emit_rerun_if_changed {
            for file in compiler.files() {
                if let Some(path) = file.path()
                    && !path.starts_with(&shipped)
                {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        let fds = compiler.file_descriptor_set();
        let pool = compiler.descriptor_pool();
        let requested: Vec<String> = compiler
            .files()
            .filter(|f| !f.is_import())
            .map(|f| f.name().to_owned())
            .collect();
        self.generate(&out_dir, fds, &pool, &requested)
    }

    fn generate(
        &self,
        out_dir: &Path,
        fds: prost_types::FileDescriptorSet,
        pool: &DescriptorPool,
        requested: &[String],
    ) -> io::Result<()> {
        let mut tonic = tonic_prost_build::configure()
            .out_dir(out_dir)
            .build_server(self.build_server)
            .build_client(self.build_client)
            .emit_rerun_if_changed(false)
            .compile_well_known_types(true)
            .extern_path(".google.protobuf", &self.well_known_types_path);
        for (proto, rust) in &self.extern_paths {
            tonic = tonic.extern_path(proto, rust);
        }
        let encoded = fds.encode_to_vec();
        let mut prost = tonic_prost_build::Config::new();
        if let Some(dependencies) = &self.dependencies {
            prost.prost_path(format!("{dependencies}::prost"));
        }
        tonic.compile_fds_with_config(fds, prost)?;
        // What gRPC reflection serves: the generated servers include it.
        let descriptors = out_dir.join("kratos_file_descriptor_set.bin");
        if fs::read(&descriptors).ok().as_deref() != Some(&encoded[..]) {
            fs::write(&descriptors, &encoded)?;
        }

        let packages: Vec<Package> = model::packages(self, pool, requested)?;
        let prefixes: Vec<String> = packages.iter().map(|p| format!(".{}", p.name)).collect();
        let mut pbjson = pbjson_build::Builder::new();
        pbjson
            .register_descriptors(&encoded)?
            .out_dir(out_dir)
            .extern_path(".google.protobuf", &self.well_known_types_path);
        for (proto, rust) in &self.extern_paths {
            pbjson.extern_path(proto, rust);
        }
        if self.emit_zero_values {
            pbjson.emit_fields();
        }
        if self.proto_names {
            pbjson.preserve_proto_field_names();
        }
        if self.ignore_unknown_fields {
            pbjson.ignore_unknown_fields();
        }
        pbjson.build(&prefixes)?;

        let mut by_file: BTreeMap<String, Vec<&Package>> = BTreeMap::new();
        for package in &packages {
            by_file
                .entry(package.file_stem())
                .or_default()
                .push(package);
        }
        for (stem, packages) in by_file {
            let rs = out_dir.join(format!("{stem}.rs"));
            let mut code = fs::read_to_string(&rs).unwrap_or_default();
            let serde = out_dir.join(format!("{stem}.serde.rs"));
            if let Ok(text) = fs::read_to_string(&serde) {
                code.push_str("\n// proto3 JSON (pbjson) for the messages above.\n");
                code.push_str(&text);
            }
            for package in packages {
                if self.http_server || self.http_client {
                    code.push_str(&router_gen::generate(self, package));
                }
                if self.build_server {
                    code.push_str(&grpc_gen::generate(self, package, &descriptors));
                }
                if self.errors {
                    code.push_str(&errors_gen::generate(self, package));
                }
                if self.openapi && !package.services.is_empty() {
                    let doc = openapi::generate(package);
                    let text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
                    fs::write(out_dir.join(format!("{stem}.openapi.json")), &text)?;
                    code.push_str(&openapi::constant(&text));
                }
            }
            if let Some(dependencies) = &self.dependencies {
                code = crate::rehome::rehome(&code, dependencies);
            }
            fs::write(&rs, code)?;
        }
        Ok(())
    }
}

//! `kratos proto add` and `kratos proto server`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Component, Path};

use prost_types::{FileDescriptorProto, MethodDescriptorProto, ServiceDescriptorProto};
use protox::file::{
    ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver,
};

use crate::cli::{ProtoAddArgs, ProtoServerArgs};
use crate::error::Error;
use crate::names;
use crate::template::render;

const ADD_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/proto/add.proto.tmpl"
));
const SERVER_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/proto/server.rs.tmpl"
));

/// The module file of the generated code in a `kratos new` project.
const API_RS: &str = "src/api.rs";
/// The file whose `wire_app` registers the services.
const LIB_RS: &str = "src/lib.rs";
/// The line of `wire_app` new services are registered above.
const WIRE_MARKER: &str = "// `kratos proto server` adds its services above this line.";

/// What `kratos proto add` derives from a path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NewProto {
    /// `api.helloworld.v1`.
    pub(crate) package: String,
    /// `Demo`.
    pub(crate) service: String,
    /// The HTTP path of the collection, `/helloworld/v1/demo`.
    pub(crate) route: String,
}

/// Reads `api/<dirs…>/<name>.proto` as Go Kratos does: the directories are
/// the package, the file's stem the service.
pub(crate) fn parse_add_path(path: &Path) -> Result<NewProto, Error> {
    let shown = path.display().to_string();
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .ok_or_else(|| Error::new(format!("{shown}: the path is not UTF-8")))?,
            ),
            Component::CurDir => {}
            _ => {
                return Err(Error::new(format!(
                    "{shown}: give a path relative to the project's root, under api/, such as api/helloworld/v1/demo.proto"
                )));
            }
        }
    }
    let Some((file, dirs)) = parts.split_last() else {
        return Err(Error::new(
            "the proto path is empty: such as api/helloworld/v1/demo.proto",
        ));
    };
    let Some(stem) = file.strip_suffix(".proto") else {
        return Err(Error::new(format!(
            "{shown}: a proto file ends in .proto, such as api/helloworld/v1/demo.proto"
        )));
    };
    if dirs.first() != Some(&"api") {
        return Err(Error::new(format!(
            "{shown}: protos live under api/ (build.rs compiles api/**/*.proto): such as api/{}",
            parts.join("/")
        )));
    }
    for part in dirs {
        names::check_package_part(part, &shown)?;
    }
    let stem_ok = stem.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !stem_ok {
        return Err(Error::new(format!(
            "{shown}: `{stem}` cannot name a service: letters, digits, `_` and `-`, starting with a letter"
        )));
    }
    let mut route = String::new();
    for part in &dirs[1..] {
        route.push('/');
        route.push_str(part);
    }
    route.push('/');
    route.push_str(&stem.replace('-', "_").to_lowercase());
    Ok(NewProto {
        package: dirs.join("."),
        service: names::service_name(stem),
        route,
    })
}

/// `kratos proto add`.
pub(crate) fn add(args: &ProtoAddArgs) -> Result<(), Error> {
    let proto = parse_add_path(&args.path)?;
    let path = &args.path;
    if path.exists() {
        return Err(Error::new(format!(
            "{} exists: kratos proto add never overwrites a file; pick another name, or delete it first",
            path.display()
        )));
    }
    let text = render(
        ADD_TEMPLATE,
        &[
            ("package", &proto.package),
            ("service", &proto.service),
            ("route", &proto.route),
        ],
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    }
    fs::write(path, text).map_err(|e| Error::io("cannot write", path, e))?;
    println!(
        "created {} (package {}, service {}, HTTP {})",
        path.display(),
        proto.package,
        proto.service,
        proto.route
    );
    wire_package(Path::new(API_RS), &proto.package)?;
    println!("next: kratos proto server {}", path.display());
    Ok(())
}

/// The Rust module path of a package's code below `crate::api`:
/// `api.helloworld.v1` is `["helloworld", "v1"]` (a leading `api` is the
/// `api` module itself).
fn package_modules(package: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = package.split('.').collect();
    if parts.first() == Some(&"api") {
        parts.remove(0);
    }
    parts
}

/// The nested modules including `package`, as rustfmt writes them.
fn package_block(package: &str) -> String {
    let modules = package_modules(package);
    let mut out = String::new();
    for (depth, module) in modules.iter().enumerate() {
        let _ = writeln!(out, "{}pub mod {module} {{", "    ".repeat(depth));
    }
    let _ = writeln!(
        out,
        "{}kratos::include_proto!(\"{package}\");",
        "    ".repeat(modules.len())
    );
    for depth in (0..modules.len()).rev() {
        let _ = writeln!(out, "{}}}", "    ".repeat(depth));
    }
    out
}

/// Adds the module of `package` to `api_rs` when it is new there and its
/// top module is too (so the edit is an append); otherwise says what to add.
fn wire_package(api_rs: &Path, package: &str) -> Result<(), Error> {
    let Ok(text) = fs::read_to_string(api_rs) else {
        println!(
            "no {}: include the package's code where your crate keeps it:\n\n{}",
            api_rs.display(),
            package_block(package)
        );
        return Ok(());
    };
    if text.contains(&format!("include_proto!(\"{package}\")")) {
        println!(
            "{} includes {package} already: nothing to wire",
            api_rs.display()
        );
        return Ok(());
    }
    let modules = package_modules(package);
    let top = modules.first().copied().unwrap_or_default();
    if top.is_empty()
        || text.contains(&format!("pub mod {top} "))
        || text.contains(&format!("mod {top};"))
    {
        println!(
            "{} has a module `{top}` already: add `{package}` inside it by hand:\n\n{}",
            api_rs.display(),
            package_block(package)
        );
        return Ok(());
    }
    let mut new = text;
    if !new.ends_with('\n') {
        new.push('\n');
    }
    new.push('\n');
    new.push_str(&package_block(package));
    fs::write(api_rs, new).map_err(|e| Error::io("cannot write", api_rs, e))?;
    println!(
        "added module {} to {}",
        modules.join("::"),
        api_rs.display()
    );
    Ok(())
}

/// The imports every project can resolve: the files next to the .proto
/// (relative to the project's root), kratos-build's shipped
/// `google/api/*.proto` and `errors/errors.proto`, and protobuf's own.
fn resolver(root: &Path) -> ChainFileResolver {
    struct Shipped;
    impl FileResolver for Shipped {
        fn open_file(&self, name: &str) -> Result<File, protox::Error> {
            match kratos_build::SHIPPED_PROTOS
                .iter()
                .find(|(path, _)| *path == name)
            {
                Some((path, text)) => File::from_source(path, text),
                None => Err(protox::Error::file_not_found(name)),
            }
        }
    }
    let mut chain = ChainFileResolver::new();
    chain.add(IncludeFileResolver::new(root.to_owned()));
    chain.add(Shipped);
    chain.add(GoogleFileResolver::new());
    chain
}

/// The descriptors of `path` and everything it imports.
fn parse(path: &Path) -> Result<(FileDescriptorProto, Vec<FileDescriptorProto>), Error> {
    if !path.is_file() {
        return Err(Error::new(format!(
            "{} not found: give a .proto relative to the project's root (kratos proto add {} writes one)",
            path.display(),
            path.display()
        )));
    }
    let mut compiler = protox::Compiler::with_file_resolver(resolver(Path::new(".")));
    compiler.include_imports(true);
    compiler.open_file(path).map_err(|e| {
        Error::new(format!(
            "{}: {e} (run kratos in the project's root: imports are relative to it)",
            path.display()
        ))
    })?;
    let name = compiler
        .files()
        .find(|f| !f.is_import())
        .map(|f| f.name().to_owned())
        .ok_or_else(|| Error::new(format!("{}: nothing compiled", path.display())))?;
    let all = compiler.file_descriptor_set().file;
    let file = all
        .iter()
        .find(|f| f.name() == name)
        .cloned()
        .ok_or_else(|| Error::new(format!("{}: nothing compiled", path.display())))?;
    Ok((file, all))
}

/// How the stub of one service names the generated code.
#[derive(Debug)]
struct Names<'a> {
    /// The file's package, `api.helloworld.v1`.
    package: &'a str,
    /// The alias of the package's module in the stub, `v1`.
    alias: String,
    /// Every package of the file and its imports, longest first.
    packages: Vec<&'a str>,
}

impl Names<'_> {
    /// The Rust path of a message `.pkg.Outer.Inner` as seen from the stub.
    fn rust_type(&self, full: &str) -> String {
        let full = full.trim_start_matches('.');
        let package = self
            .packages
            .iter()
            .find(|p| {
                full.strip_prefix(**p)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
            .copied()
            .unwrap_or("");
        let rest = if package.is_empty() {
            full
        } else {
            &full[package.len() + 1..]
        };
        let mut parts: Vec<&str> = rest.split('.').collect();
        let message = names::type_ident(parts.pop().unwrap_or_default());
        let nested: Vec<String> = parts.iter().map(|p| names::snake_ident(p)).collect();
        let mut path = if package == self.package {
            vec![self.alias.clone()]
        } else if package == "google.protobuf" {
            // What kratos-build maps the well-known types to.
            vec!["kratos::__codegen::pbjson_types".to_owned()]
        } else {
            let mut modules = vec!["crate::api".to_owned()];
            modules.extend(package_modules(package).iter().map(|m| (*m).to_owned()));
            modules
        };
        path.extend(nested);
        path.push(message);
        path.join("::")
    }
}

/// The stub of `service`.
fn stub(
    proto: &Path,
    file: &FileDescriptorProto,
    service: &ServiceDescriptorProto,
    names: &Names<'_>,
) -> String {
    let service_name = names::type_ident(service.name());
    let mut methods = Vec::new();
    for method in &service.method {
        methods.push(stub_method(method, names));
    }
    let modules = package_modules(file.package());
    let api_path = if modules.is_empty() {
        "crate::api".to_owned()
    } else {
        format!("crate::api::{}", modules.join("::"))
    };
    render(
        SERVER_TEMPLATE,
        &[
            (
                "full_service",
                &format!("{}.{}", file.package(), service.name()),
            ),
            ("proto", &proto.display().to_string()),
            ("api_path", &api_path),
            ("alias", &names.alias),
            ("struct", &format!("{service_name}Service")),
            ("service", &service_name),
            ("module", &names::tonic_snake(&service_name)),
            ("methods", &methods.join("\n")),
        ],
    )
}

/// One method of a stub, formatted as rustfmt would.
fn stub_method(method: &MethodDescriptorProto, names: &Names<'_>) -> String {
    let name = names::snake_ident(method.name());
    let input = names.rust_type(method.input_type());
    let output = names.rust_type(method.output_type());
    let input = if method.client_streaming() {
        format!("kratos::tonic::Streaming<{input}>")
    } else {
        input
    };
    let mut out = String::new();
    let reply = if method.server_streaming() {
        let stream = format!("{}Stream", method.name());
        let _ = writeln!(
            out,
            "    type {stream} = kratos::tonic::codegen::BoxStream<{output}>;\n"
        );
        format!("Self::{stream}")
    } else {
        output
    };
    let one_line = format!(
        "    async fn {name}(&self, _request: Request<{input}>) -> Result<Response<{reply}>, Status> {{"
    );
    if one_line.len() <= 100 {
        out.push_str(&one_line);
        out.push('\n');
    } else {
        let _ = writeln!(
            out,
            "    async fn {name}(\n        &self,\n        _request: Request<{input}>,\n    ) -> Result<Response<{reply}>, Status> {{"
        );
    }
    let _ = writeln!(
        out,
        "        Err(not_implemented(\"{}\"))\n    }}",
        method.name()
    );
    out
}

/// `kratos proto server`.
pub(crate) fn server(args: &ProtoServerArgs) -> Result<(), Error> {
    let (file, all) = parse(&args.path)?;
    if file.service.is_empty() {
        return Err(Error::new(format!(
            "{} has no service: add one (kratos proto add writes a .proto with one)",
            args.path.display()
        )));
    }
    let mut packages: Vec<&str> = all
        .iter()
        .map(|f| f.package())
        .filter(|p| !p.is_empty())
        .collect();
    packages.sort_by_key(|p| std::cmp::Reverse(p.len()));
    packages.dedup();
    let modules = package_modules(file.package());
    let names = Names {
        package: file.package(),
        alias: modules.last().copied().unwrap_or("api").to_owned(),
        packages,
    };
    // Every file is checked before one is written: a refusal changes nothing.
    let mut stubs = Vec::new();
    for service in &file.service {
        let stem = names::file_stem(service.name());
        let path = args.target_dir.join(format!("{stem}.rs"));
        if path.exists() {
            return Err(Error::new(format!(
                "{} exists: kratos proto server never overwrites a file; move it away, or pass another -t DIR",
                path.display()
            )));
        }
        stubs.push((
            stem,
            path,
            service,
            stub(&args.path, &file, service, &names),
        ));
    }
    fs::create_dir_all(&args.target_dir)
        .map_err(|e| Error::io("cannot create", &args.target_dir, e))?;
    for (stem, path, service, text) in stubs {
        fs::write(&path, text).map_err(|e| Error::io("cannot write", &path, e))?;
        format_file(&path);
        println!(
            "created {} ({}.{}, {} methods)",
            path.display(),
            file.package(),
            service.name(),
            service.method.len()
        );
        wire_service(
            &args.target_dir,
            &stem,
            &format!("{}Service", names::type_ident(service.name())),
        )?;
    }
    Ok(())
}

/// rustfmt on one file (no `mod` children), when rustfmt is installed: the
/// stub is written formatted already, this only matters for long names.
fn format_file(path: &Path) {
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--quiet"])
        .arg(path)
        .stderr(std::process::Stdio::null())
        .status();
}

/// The module path of a directory under `src/`: `src/service` is
/// `crate::service`.
fn module_of(dir: &Path) -> Option<String> {
    let rest = dir.strip_prefix("src").ok()?;
    let mut path = vec!["crate".to_owned()];
    for component in rest.components() {
        let Component::Normal(part) = component else {
            return None;
        };
        path.push(part.to_str()?.to_owned());
    }
    Some(path.join("::"))
}

/// Declares the stub's module in `dir/mod.rs` and registers the service in
/// `wire_app`, where both are where `kratos new` put them; otherwise prints
/// the lines to add.
fn wire_service(dir: &Path, stem: &str, service: &str) -> Result<(), Error> {
    let mod_rs = dir.join("mod.rs");
    let mod_line = format!("pub mod {stem};");
    match fs::read_to_string(&mod_rs) {
        Ok(text) if text.lines().any(|l| l.trim() == mod_line) => {}
        Ok(text) => {
            fs::write(&mod_rs, insert_mod_line(&text, &mod_line))
                .map_err(|e| Error::io("cannot write", &mod_rs, e))?;
            println!("added `{mod_line}` to {}", mod_rs.display());
        }
        Err(_) => println!("add `{mod_line}` to the module of {}", dir.display()),
    }

    let module = module_of(dir).unwrap_or_else(|| format!("<the module of {}>", dir.display()));
    let var = stem.trim_start_matches("r#");
    let lib_rs = Path::new(LIB_RS);
    let text = fs::read_to_string(lib_rs).unwrap_or_default();
    let arc = if text.contains("use std::sync::Arc;") {
        "Arc"
    } else {
        "std::sync::Arc"
    };
    let lines = format!(
        "    let {var} = {arc}::new({module}::{stem}::{service}::new());\n    let (http, grpc) = {var}.register(http, grpc);\n"
    );
    if text.contains(&lines) {
        return Ok(());
    }
    match text.find(WIRE_MARKER) {
        Some(at) if module_of(dir).is_some() => {
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let mut new = text.clone();
            new.insert_str(line_start, &lines);
            fs::write(lib_rs, new).map_err(|e| Error::io("cannot write", lib_rs, e))?;
            println!(
                "registered {service} on both servers in {} (wire_app)",
                lib_rs.display()
            );
        }
        _ => println!(
            "register it where the servers are built (wire_app in src/lib.rs of a kratos new project):\n\n{lines}"
        ),
    }
    Ok(())
}

/// `text` with `line` among its last run of `mod` declarations, in the
/// order rustfmt keeps them (by name), or at its end.
fn insert_mod_line(text: &str, line: &str) -> String {
    let is_mod = |l: &str| l.starts_with("pub mod ") || l.starts_with("mod ");
    let name = |l: &str| {
        l.trim_start_matches("pub ")
            .trim_start_matches("mod ")
            .trim_end_matches(';')
            .to_owned()
    };
    let mut lines: Vec<&str> = text.lines().collect();
    match lines.iter().rposition(|l| is_mod(l)) {
        Some(last) => {
            let first = lines[..last]
                .iter()
                .rposition(|l| !is_mod(l))
                .map_or(0, |i| i + 1);
            let at = (first..=last)
                .find(|&i| name(lines[i]) > name(line))
                .unwrap_or(last + 1);
            lines.insert(at, line);
        }
        None => {
            lines.push("");
            lines.push(line);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_follows_the_path() {
        let proto = parse_add_path(Path::new("api/helloworld/v1/demo.proto")).unwrap();
        assert_eq!(
            proto,
            NewProto {
                package: "api.helloworld.v1".into(),
                service: "Demo".into(),
                route: "/helloworld/v1/demo".into(),
            }
        );
        let proto = parse_add_path(Path::new("./api/shop/v2/user_profile.proto")).unwrap();
        assert_eq!(proto.package, "api.shop.v2");
        assert_eq!(proto.service, "UserProfile");
        assert_eq!(proto.route, "/shop/v2/user_profile");
    }

    #[test]
    fn bad_paths_say_what_a_good_one_is() {
        for bad in [
            "demo.proto",
            "proto/x/v1/demo.proto",
            "api/x/v1/demo.txt",
            "/api/x/demo.proto",
            "api/a-b/demo.proto",
            "api/type/demo.proto",
            "api/x/1demo.proto",
        ] {
            let err = parse_add_path(Path::new(bad)).expect_err(bad);
            assert!(!err.to_string().is_empty());
        }
        let err = parse_add_path(Path::new("proto/x/v1/demo.proto")).unwrap_err();
        assert!(err.to_string().contains("under api/"), "{err}");
    }

    #[test]
    fn the_added_proto_compiles_and_has_crud_with_http_rules() {
        let dir = tempfile::tempdir().unwrap();
        let proto = parse_add_path(Path::new("api/helloworld/v1/demo.proto")).unwrap();
        let text = render(
            ADD_TEMPLATE,
            &[
                ("package", &proto.package),
                ("service", &proto.service),
                ("route", &proto.route),
            ],
        );
        let path = dir.path().join("api/helloworld/v1/demo.proto");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &text).unwrap();

        let mut compiler = protox::Compiler::with_file_resolver(resolver(dir.path()));
        compiler.open_file("api/helloworld/v1/demo.proto").unwrap();
        let fds = compiler.file_descriptor_set();
        let file = fds
            .file
            .iter()
            .find(|f| f.name() == "api/helloworld/v1/demo.proto")
            .unwrap();
        assert_eq!(file.package(), "api.helloworld.v1");
        let methods: Vec<&str> = file.service[0].method.iter().map(|m| m.name()).collect();
        assert_eq!(
            methods,
            [
                "CreateDemo",
                "UpdateDemo",
                "DeleteDemo",
                "GetDemo",
                "ListDemo"
            ]
        );
        assert!(
            file.service[0].method.iter().all(|m| m.options.is_some()),
            "every method has an HTTP rule"
        );
        assert!(text.contains("get: \"/helloworld/v1/demo/{id}\""), "{text}");
    }

    #[test]
    fn package_blocks_nest_below_api() {
        assert_eq!(
            package_block("api.shop.v1"),
            "pub mod shop {\n    pub mod v1 {\n        kratos::include_proto!(\"api.shop.v1\");\n    }\n}\n"
        );
        assert_eq!(package_modules("helloworld.v1"), ["helloworld", "v1"]);
    }

    #[test]
    fn a_new_package_is_appended_and_an_existing_top_module_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let api_rs = dir.path().join("api.rs");
        let original = "//! The API.\n\npub mod demo {\n    pub mod v1 {\n        kratos::include_proto!(\"api.demo.v1\");\n    }\n}\n";
        fs::write(&api_rs, original).unwrap();
        wire_package(&api_rs, "api.demo.v1").unwrap();
        assert_eq!(
            fs::read_to_string(&api_rs).unwrap(),
            original,
            "present already"
        );
        wire_package(&api_rs, "api.demo.v2").unwrap();
        assert_eq!(
            fs::read_to_string(&api_rs).unwrap(),
            original,
            "`demo` exists: by hand"
        );
        wire_package(&api_rs, "api.shop.v1").unwrap();
        let text = fs::read_to_string(&api_rs).unwrap();
        assert_eq!(
            text,
            format!("{original}\n{}", package_block("api.shop.v1"))
        );
    }

    #[test]
    fn rust_types_are_named_as_prost_names_them() {
        let names = Names {
            package: "api.shop.v1",
            alias: "v1".into(),
            packages: vec!["google.protobuf", "api.shop.v1", "api.user"],
        };
        assert_eq!(
            names.rust_type(".api.shop.v1.GetCartRequest"),
            "v1::GetCartRequest"
        );
        assert_eq!(names.rust_type(".api.shop.v1.Cart.Item"), "v1::cart::Item");
        assert_eq!(names.rust_type(".api.user.User"), "crate::api::user::User");
        assert_eq!(
            names.rust_type(".google.protobuf.Empty"),
            "kratos::__codegen::pbjson_types::Empty"
        );
    }

    #[test]
    fn stub_methods_are_formatted_as_rustfmt_does() {
        let names = Names {
            package: "p",
            alias: "v1".into(),
            packages: vec!["p"],
        };
        let short = MethodDescriptorProto {
            name: Some("Get".into()),
            input_type: Some(".p.A".into()),
            output_type: Some(".p.B".into()),
            ..Default::default()
        };
        assert_eq!(
            stub_method(&short, &names),
            "    async fn get(&self, _request: Request<v1::A>) -> Result<Response<v1::B>, Status> {\n        Err(not_implemented(\"Get\"))\n    }\n"
        );
        let streaming = MethodDescriptorProto {
            name: Some("Watch".into()),
            input_type: Some(".p.WatchCartRequest".into()),
            output_type: Some(".p.WatchCartReply".into()),
            server_streaming: Some(true),
            ..Default::default()
        };
        let text = stub_method(&streaming, &names);
        assert!(
            text.starts_with(
                "    type WatchStream = kratos::tonic::codegen::BoxStream<v1::WatchCartReply>;\n\n"
            ),
            "{text}"
        );
        assert!(text.contains("    async fn watch(\n        &self,\n        _request: Request<v1::WatchCartRequest>,\n    ) -> Result<Response<Self::WatchStream>, Status> {\n"), "{text}");
    }

    #[test]
    fn mod_lines_go_after_the_last_mod() {
        let text = "//! Services.\n\npub mod greeter;\n\npub use greeter::GreeterService;\n";
        assert_eq!(
            insert_mod_line(text, "pub mod demo;"),
            "//! Services.\n\npub mod demo;\npub mod greeter;\n\npub use greeter::GreeterService;\n"
        );
        assert_eq!(
            insert_mod_line("pub mod a;\npub mod c;\n", "pub mod d;"),
            "pub mod a;\npub mod c;\npub mod d;\n"
        );
        assert_eq!(
            module_of(Path::new("src/service")).as_deref(),
            Some("crate::service")
        );
        assert_eq!(module_of(Path::new("lib/x")), None);
    }
}

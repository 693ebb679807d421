//! `kratos new`: a project from `templates/new/`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::{NewArgs, Registry};
use crate::error::Error;
use crate::names;
use crate::template::render;

/// Includes a file of `templates/`.
macro_rules! template {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $path))
    };
}

/// Each file of a new project: where it goes (a template itself) and its
/// template, relative to `templates/new/`.
const FILES: &[(&str, &str, &str)] = &[
    (
        "Cargo.toml",
        "Cargo.toml.tmpl",
        template!("new/Cargo.toml.tmpl"),
    ),
    ("build.rs", "build.rs.tmpl", template!("new/build.rs.tmpl")),
    (
        "README.md",
        "README.md.tmpl",
        template!("new/README.md.tmpl"),
    ),
    (
        "Dockerfile",
        "Dockerfile.tmpl",
        template!("new/Dockerfile.tmpl"),
    ),
    (
        ".dockerignore",
        "dockerignore.tmpl",
        template!("new/dockerignore.tmpl"),
    ),
    (
        ".gitignore",
        "gitignore.tmpl",
        template!("new/gitignore.tmpl"),
    ),
    (
        "api/{{pkg}}/v1/greeter.proto",
        "api/v1/greeter.proto.tmpl",
        template!("new/api/v1/greeter.proto.tmpl"),
    ),
    (
        "configs/config.yaml",
        "configs/config.yaml.tmpl",
        template!("new/configs/config.yaml.tmpl"),
    ),
    (
        "deploy/k8s/kustomization.yaml",
        "deploy/k8s/kustomization.yaml.tmpl",
        template!("new/deploy/k8s/kustomization.yaml.tmpl"),
    ),
    (
        "deploy/k8s/config.yaml",
        "deploy/k8s/config.yaml.tmpl",
        template!("new/deploy/k8s/config.yaml.tmpl"),
    ),
    (
        "deploy/k8s/deployment.yaml",
        "deploy/k8s/deployment.yaml.tmpl",
        template!("new/deploy/k8s/deployment.yaml.tmpl"),
    ),
    (
        "src/main.rs",
        "src/main.rs.tmpl",
        template!("new/src/main.rs.tmpl"),
    ),
    (
        "src/lib.rs",
        "src/lib.rs.tmpl",
        template!("new/src/lib.rs.tmpl"),
    ),
    (
        "src/api.rs",
        "src/api.rs.tmpl",
        template!("new/src/api.rs.tmpl"),
    ),
    (
        "src/conf.rs",
        "src/conf.rs.tmpl",
        template!("new/src/conf.rs.tmpl"),
    ),
    (
        "src/biz/mod.rs",
        "src/biz/mod.rs.tmpl",
        template!("new/src/biz/mod.rs.tmpl"),
    ),
    (
        "src/biz/greeter.rs",
        "src/biz/greeter.rs.tmpl",
        template!("new/src/biz/greeter.rs.tmpl"),
    ),
    (
        "src/data/mod.rs",
        "src/data/mod.rs.tmpl",
        template!("new/src/data/mod.rs.tmpl"),
    ),
    (
        "src/data/greeter.rs",
        "src/data/greeter.rs.tmpl",
        template!("new/src/data/greeter.rs.tmpl"),
    ),
    (
        "src/service/mod.rs",
        "src/service/mod.rs.tmpl",
        template!("new/src/service/mod.rs.tmpl"),
    ),
    (
        "src/service/greeter.rs",
        "src/service/greeter.rs.tmpl",
        template!("new/src/service/greeter.rs.tmpl"),
    ),
    (
        "src/server/mod.rs",
        "src/server/mod.rs.tmpl",
        template!("new/src/server/mod.rs.tmpl"),
    ),
    (
        "tests/greeter.rs",
        "tests/greeter.rs.tmpl",
        template!("new/tests/greeter.rs.tmpl"),
    ),
];

/// The parts of the files that depend on the registry: the registrar of
/// src/server/mod.rs and the `registry` of configs/config.yaml.
fn registry_parts(registry: Registry) -> (&'static str, &'static str) {
    match registry {
        Registry::Memory => (
            template!("registry/memory.rs.tmpl"),
            template!("registry/memory.yaml.tmpl"),
        ),
        Registry::Etcd => (
            template!("registry/etcd.rs.tmpl"),
            template!("registry/etcd.yaml.tmpl"),
        ),
        Registry::Consul => (
            template!("registry/consul.rs.tmpl"),
            template!("registry/consul.yaml.tmpl"),
        ),
    }
}

/// What to write and where: a project, rendered, before anything is written.
#[derive(Debug)]
pub(crate) struct Project {
    /// The project's directory.
    pub(crate) dir: PathBuf,
    /// Each file, its path relative to `dir` and its text.
    pub(crate) files: Vec<(PathBuf, String)>,
}

/// Where kratos-rs comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// crates.io, at this version.
    Version(String),
    /// A checkout of the kratos-rs repository.
    Path(PathBuf),
}

/// Renders the project `name` in `parent` (nothing is written).
pub(crate) fn render_project(
    name: &str,
    parent: &Path,
    registry: Registry,
    source: &Source,
) -> Result<Project, Error> {
    names::check_project(name)?;
    let ident = name.replace('-', "_");
    let features = match registry {
        Registry::Memory => String::new(),
        other => format!(", features = [\"{}\"]", other.as_str()),
    };
    let (kratos_dep, build_dep) = match source {
        Source::Version(version) => (
            format!("{{ version = \"{version}\"{features} }}"),
            format!("{{ version = \"{version}\" }}"),
        ),
        Source::Path(dir) => (
            format!("{{ path = {}{features} }}", toml_string(dir)),
            format!("{{ path = {} }}", toml_string(&dir.join("kratos-build"))),
        ),
    };
    let docker_build_deps = match registry {
        Registry::Etcd => {
            "# etcd-client compiles its protos with protoc at build time.\n\
             # hadolint ignore=DL3008\n\
             RUN apt-get update \\\n    \
             && apt-get install -y --no-install-recommends protobuf-compiler libprotobuf-dev \\\n    \
             && rm -rf /var/lib/apt/lists/*\n"
        }
        Registry::Memory | Registry::Consul => "",
    };
    let k8s_env = match registry {
        Registry::Memory => "  REGISTRY: memory\n",
        Registry::Etcd => "  REGISTRY: etcd\n  ETCD_ENDPOINT: http://etcd:2379\n",
        Registry::Consul => "  REGISTRY: consul\n  CONSUL_ADDRESS: http://consul:8500\n",
    };
    let (registrar, registry_conf) = registry_parts(registry);
    let values = [
        ("name", name),
        ("crate", &ident),
        ("pkg", &ident),
        ("kratos_dep", &kratos_dep),
        ("kratos_build_dep", &build_dep),
        ("docker_build_deps", docker_build_deps),
        ("k8s_env", k8s_env),
        ("registrar", registrar.trim_end()),
        ("registry_conf", registry_conf.trim_end()),
    ];
    let files = FILES
        .iter()
        .map(|(to, _, text)| (PathBuf::from(render(to, &values)), render(text, &values)))
        .collect();
    Ok(Project {
        dir: parent.join(name),
        files,
    })
}

/// A TOML basic string of `path`.
fn toml_string(path: &Path) -> String {
    let text = path.display().to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Writes `project`, refusing if its directory exists; on a failure midway
/// the directory it created is removed again.
pub(crate) fn write(project: &Project) -> Result<(), Error> {
    if project.dir.exists() {
        return Err(Error::new(format!(
            "{} already exists: kratos new writes a new directory only and changed nothing; pick another name or --path, or remove it",
            project.dir.display()
        )));
    }
    if let Some(parent) = project.dir.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(Error::new(format!(
            "{} is not a directory: create it first, or give another --path",
            parent.display()
        )));
    }
    fs::create_dir(&project.dir).map_err(|e| Error::io("cannot create", &project.dir, e))?;
    let written = project.files.iter().try_for_each(|(path, text)| {
        let path = project.dir.join(path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        }
        fs::write(&path, text).map_err(|e| Error::io("cannot write", &path, e))
    });
    if written.is_err() {
        let _ = fs::remove_dir_all(&project.dir);
    }
    written
}

/// `kratos new`.
pub(crate) fn run(args: &NewArgs) -> Result<(), Error> {
    let source = match &args.kratos_path {
        None => Source::Version(env!("CARGO_PKG_VERSION").to_owned()),
        Some(dir) => Source::Path(kratos_checkout(dir)?),
    };
    let project = render_project(&args.name, &args.path, args.registry, &source)?;
    write(&project)?;
    let dir = project.dir.display();
    println!(
        "created {dir} ({} files, registry {})",
        project.files.len(),
        args.registry.as_str()
    );
    println!();
    println!("  cd {dir}");
    println!("  kratos run        # or: cargo run -- --conf configs");
    println!("  cargo test        # the greeter over HTTP and gRPC");
    println!("  curl -s localhost:8000/helloworld/kratos");
    Ok(())
}

/// The absolute path of a kratos-rs checkout, checked to hold kratos-rs and
/// kratos-build.
fn kratos_checkout(dir: &Path) -> Result<PathBuf, Error> {
    let dir = fs::canonicalize(dir).map_err(|e| Error::io("--kratos-path", dir, e))?;
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains("name = \"kratos-rs\"") || !dir.join("kratos-build/Cargo.toml").is_file()
    {
        return Err(Error::new(format!(
            "--kratos-path {}: not a kratos-rs checkout (it needs the kratos-rs Cargo.toml and kratos-build/); give the repository's root",
            dir.display()
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn project(registry: Registry, source: &Source) -> Project {
        render_project("my-shop", Path::new("/tmp"), registry, source).unwrap()
    }

    fn file<'a>(project: &'a Project, path: &str) -> &'a str {
        &project
            .files
            .iter()
            .find(|(p, _)| p == Path::new(path))
            .expect(path)
            .1
    }

    #[test]
    fn every_template_file_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/new");
        let mut found = Vec::new();
        fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else {
                    found.push(path.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        walk(&root, &root, &mut found);
        found.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(_, from, _)| from.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed);
    }

    #[test]
    fn renders_the_layout_with_every_placeholder_filled() {
        for registry in [Registry::Memory, Registry::Etcd, Registry::Consul] {
            let project = project(registry, &Source::Version("0.1.0".into()));
            assert_eq!(project.dir, Path::new("/tmp/my-shop"));
            assert!(
                file(&project, "api/my_shop/v1/greeter.proto").contains("package api.my_shop.v1;")
            );
            for (path, text) in &project.files {
                assert!(
                    !text.contains("{{"),
                    "{} keeps a placeholder",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn the_registry_sets_features_config_and_code() {
        let version = Source::Version("0.1.0".into());
        let memory = project(Registry::Memory, &version);
        assert!(file(&memory, "Cargo.toml").contains("kratos-rs = { version = \"0.1.0\" }"));
        assert!(file(&memory, "configs/config.yaml").contains("kind: ${REGISTRY:memory}"));
        assert!(file(&memory, "src/server/mod.rs").contains("MemoryRegistry::global()"));

        let etcd = project(Registry::Etcd, &version);
        assert!(
            file(&etcd, "Cargo.toml")
                .contains("kratos-rs = { version = \"0.1.0\", features = [\"etcd\"] }")
        );
        assert!(
            file(&etcd, "configs/config.yaml").contains("${ETCD_ENDPOINT:http://127.0.0.1:2379}")
        );
        assert!(file(&etcd, "src/server/mod.rs").contains("EtcdRegistry::builder"));
        assert!(file(&etcd, "Dockerfile").contains("protobuf-compiler"));

        let consul = project(Registry::Consul, &version);
        assert!(file(&consul, "Cargo.toml").contains("features = [\"consul\"]"));
        assert!(file(&consul, "src/server/mod.rs").contains("ConsulRegistry::new"));
        assert!(!file(&consul, "Dockerfile").contains("protobuf-compiler"));
    }

    #[test]
    fn a_path_source_points_both_dependencies_at_the_checkout() {
        let project = project(Registry::Memory, &Source::Path("/src/kratos \"rs\"".into()));
        let manifest = file(&project, "Cargo.toml");
        assert!(
            manifest.contains(r#"kratos-rs = { path = "/src/kratos \"rs\"" }"#),
            "{manifest}"
        );
        assert!(
            manifest.contains(r#"kratos-build = { path = "/src/kratos \"rs\"/kratos-build" }"#)
        );
    }

    #[test]
    fn the_rust_files_are_formatted_as_rustfmt_wants() {
        if Command::new("rustfmt").arg("--version").output().is_err() {
            eprintln!("no rustfmt: skipped");
            return;
        }
        for (name, registry) in [
            ("demo", Registry::Memory),
            ("a-rather-long-service-name", Registry::Etcd),
            ("x", Registry::Consul),
        ] {
            let parent = tempfile::tempdir().unwrap();
            let project = render_project(
                name,
                parent.path(),
                registry,
                &Source::Version("0.1.0".into()),
            )
            .unwrap();
            write(&project).unwrap();
            let out = Command::new("rustfmt")
                .args([
                    "--check",
                    "--edition",
                    "2024",
                    "src/main.rs",
                    "src/lib.rs",
                    "build.rs",
                    "tests/greeter.rs",
                ])
                .current_dir(&project.dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name} ({registry:?}) is not rustfmt-clean:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    #[test]
    fn a_bad_name_is_refused_before_anything_is_rendered() {
        let err = render_project(
            "My App",
            Path::new("."),
            Registry::Memory,
            &Source::Version("0.1.0".into()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a project name"), "{err}");
    }
}

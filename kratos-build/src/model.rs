//! What the generators need, read from the descriptor pool: packages,
//! services, methods and their HTTP bindings, annotated error enums.

use std::io;

use prost_reflect::{DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

use crate::config::Builder;
use crate::http_rule::{self, Binding, BodyModel};
use crate::names::{snake_ident, type_ident};

/// One proto package of the requested files.
#[derive(Debug)]
pub(crate) struct Package {
    /// `api.order.v1`.
    pub(crate) name: String,
    pub(crate) services: Vec<Service>,
    pub(crate) error_enums: Vec<ErrorEnum>,
    pub(crate) proto_names: bool,
}

impl Package {
    /// The stem of the generated file (`api.order.v1`, or `_` for no package).
    pub(crate) fn file_stem(&self) -> String {
        if self.name.is_empty() {
            "_".to_owned()
        } else {
            self.name.clone()
        }
    }
}

#[derive(Debug)]
pub(crate) struct Service {
    /// `OrderService`.
    pub(crate) name: String,
    /// `api.order.v1.OrderService`.
    pub(crate) full_name: String,
    pub(crate) methods: Vec<Method>,
}

#[derive(Debug)]
pub(crate) struct Method {
    /// `GetOrder`.
    pub(crate) name: String,
    pub(crate) input: MessageDescriptor,
    pub(crate) output: MessageDescriptor,
    /// The Rust path of the input type, as seen from the `<service>_http`
    /// and `<service>_grpc` modules.
    pub(crate) input_rust: String,
    pub(crate) output_rust: String,
    /// The HTTP bindings; none for a streaming method (HTTP/JSON bindings
    /// are for unary calls only).
    pub(crate) bindings: Vec<Binding>,
    /// The method's leading comment in the `.proto`.
    pub(crate) comment: Option<String>,
    /// `rpc M (stream Req)`.
    pub(crate) client_streaming: bool,
    /// `rpc M (Req) returns (stream Reply)`.
    pub(crate) server_streaming: bool,
}

impl Method {
    /// One request, one reply: the methods HTTP can bind.
    pub(crate) fn is_unary(&self) -> bool {
        !self.client_streaming && !self.server_streaming
    }
}

impl Service {
    /// The unary methods: those with HTTP bindings.
    pub(crate) fn unary_methods(&self) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(|m| m.is_unary())
    }
}

#[derive(Debug)]
pub(crate) struct ErrorEnum {
    /// The Rust type, relative to the package module (`ErrorReason`).
    pub(crate) rust_name: String,
    /// `(errors.default_code)`.
    pub(crate) default: u16,
    /// `(name, number, code)` of each value.
    pub(crate) values: Vec<(String, i32, u16)>,
}

/// One field reachable from a request message by a dotted path.
#[derive(Debug, Clone)]
pub(crate) struct FieldModel {
    pub(crate) proto: String,
    pub(crate) json: String,
    pub(crate) descriptor: FieldDescriptor,
}

impl FieldModel {
    /// The `TextKind` variant of the runtime: how its text becomes JSON.
    pub(crate) fn text_kind(&self) -> &'static str {
        match self.descriptor.kind() {
            Kind::Bool => "Bool",
            Kind::Enum(_) => "Enum",
            _ => "Text",
        }
    }

    pub(crate) fn repeated(&self) -> bool {
        self.descriptor.is_list()
    }

    /// The text of the zero value, for a path variable the client must fill.
    pub(crate) fn zero(&self) -> String {
        match self.descriptor.kind() {
            Kind::Bool => "false".to_owned(),
            Kind::String | Kind::Bytes | Kind::Message(_) => String::new(),
            Kind::Enum(e) => e
                .values()
                .find(|v| v.number() == 0)
                .map(|v| v.name().to_owned())
                .unwrap_or_default(),
            Kind::Double | Kind::Float => "0".to_owned(),
            _ => "0".to_owned(),
        }
    }
}

/// Finds the field at `path` (proto names, dotted) in `message`.
pub(crate) fn resolve_field(message: &MessageDescriptor, path: &str) -> io::Result<FieldModel> {
    let mut current = message.clone();
    let mut proto = Vec::new();
    let mut json = Vec::new();
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        let field = current.get_field_by_name(segment).ok_or_else(|| {
            io::Error::other(format!(
                "{}: no field `{path}` (for an HTTP path variable or body)",
                message.full_name()
            ))
        })?;
        proto.push(field.name().to_owned());
        json.push(field.json_name().to_owned());
        if i + 1 == segments.len() {
            return Ok(FieldModel {
                proto: proto.join("."),
                json: json.join("."),
                descriptor: field,
            });
        }
        match field.kind() {
            Kind::Message(m) if !field.is_list() && !field.is_map() => current = m,
            _ => {
                return Err(io::Error::other(format!(
                    "{}: `{path}` goes through a field that is not a singular message",
                    message.full_name()
                )));
            }
        }
    }
    Err(io::Error::other(format!(
        "empty field path in {}",
        message.full_name()
    )))
}

/// Whether a message is a well-known type, treated as a scalar in query
/// strings and OpenAPI.
pub(crate) fn is_well_known(message: &MessageDescriptor) -> bool {
    message.package_name() == "google.protobuf"
}

/// Every field a query parameter can set: scalars, enums, repeated scalars
/// and well-known types, also inside singular nested messages (depth ≤ 3).
pub(crate) fn query_fields(message: &MessageDescriptor) -> Vec<FieldModel> {
    fn walk(
        message: &MessageDescriptor,
        proto: &str,
        json: &str,
        depth: usize,
        seen: &mut Vec<String>,
        out: &mut Vec<FieldModel>,
    ) {
        if depth > 3 || seen.iter().any(|s| s == message.full_name()) {
            return;
        }
        seen.push(message.full_name().to_owned());
        for field in message.fields() {
            if field.is_map() {
                continue;
            }
            let p = join(proto, field.name());
            let j = join(json, field.json_name());
            match field.kind() {
                Kind::Message(m) if !is_well_known(&m) => {
                    if !field.is_list() {
                        walk(&m, &p, &j, depth + 1, seen, out);
                    }
                }
                _ => out.push(FieldModel {
                    proto: p,
                    json: j,
                    descriptor: field.clone(),
                }),
            }
        }
        seen.pop();
    }
    let mut out = Vec::new();
    walk(message, "", "", 0, &mut Vec::new(), &mut out);
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The packages of `requested` files with their services and error enums.
pub(crate) fn packages(
    builder: &Builder,
    pool: &DescriptorPool,
    requested: &[String],
) -> io::Result<Vec<Package>> {
    let http_ext = pool.get_extension_by_name("google.api.http");
    let default_code_ext = pool.get_extension_by_name("errors.default_code");
    let code_ext = pool.get_extension_by_name("errors.code");
    let mut packages: Vec<Package> = Vec::new();
    for name in requested {
        let Some(file) = pool.get_file_by_name(name) else {
            continue;
        };
        let package_name = file.package_name().to_owned();
        let index = match packages.iter().position(|p| p.name == package_name) {
            Some(index) => index,
            None => {
                packages.push(Package {
                    name: package_name.clone(),
                    services: Vec::new(),
                    error_enums: Vec::new(),
                    proto_names: builder.proto_names,
                });
                packages.len() - 1
            }
        };
        for service in file.services() {
            let mut methods = Vec::new();
            for method in service.methods() {
                let client_streaming = method.is_client_streaming();
                let server_streaming = method.is_server_streaming();
                let unary = !client_streaming && !server_streaming;
                let rule = http_ext.as_ref().and_then(|ext| {
                    let options = method.options();
                    options
                        .has_extension(ext)
                        .then(|| options.get_extension(ext).as_message().cloned())
                        .flatten()
                });
                let rules = match rule {
                    Some(rule) => http_rule::read_rules(&rule),
                    None => vec![http_rule::RawRule::default_for(
                        service.full_name(),
                        method.name(),
                    )],
                };
                let input = method.input();
                let output = method.output();
                let mut bindings = Vec::new();
                // HTTP/JSON bindings are for unary calls only.
                for rule in rules.into_iter().filter(|_| unary) {
                    bindings.push(
                        Binding::new(&rule, &input, &output).map_err(|e| {
                            io::Error::other(format!("{}: {e}", method.full_name()))
                        })?,
                    );
                }
                methods.push(Method {
                    name: method.name().to_owned(),
                    input_rust: rust_type(builder, &package_name, &input),
                    output_rust: rust_type(builder, &package_name, &output),
                    input,
                    output,
                    bindings,
                    comment: crate::openapi::comment(
                        method.parent_file().file_descriptor_proto(),
                        method.path(),
                    ),
                    client_streaming,
                    server_streaming,
                });
            }
            packages[index].services.push(Service {
                name: service.name().to_owned(),
                full_name: service.full_name().to_owned(),
                methods,
            });
        }
        if let Some(default_ext) = &default_code_ext {
            for enumeration in file.enums() {
                let options = enumeration.options();
                if !options.has_extension(default_ext) {
                    continue;
                }
                let default = code_from(
                    options.get_extension(default_ext).as_i32(),
                    &enumeration,
                    "default_code",
                )?;
                let mut values = Vec::new();
                for value in enumeration.values() {
                    let options = value.options();
                    let code = match &code_ext {
                        Some(ext) if options.has_extension(ext) => code_from(
                            options.get_extension(ext).as_i32(),
                            &enumeration,
                            value.name(),
                        )?,
                        _ => default,
                    };
                    values.push((value.name().to_owned(), value.number(), code));
                }
                packages[index].error_enums.push(ErrorEnum {
                    rust_name: type_ident(enumeration.name()),
                    default,
                    values,
                });
            }
        }
    }
    Ok(packages)
}

fn code_from(value: Option<i32>, enumeration: &EnumDescriptor, what: &str) -> io::Result<u16> {
    value
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| (100..=599).contains(v))
        .ok_or_else(|| {
            io::Error::other(format!(
                "{}: the error code of {what} must be an HTTP status (100..=599)",
                enumeration.full_name()
            ))
        })
}

/// The Rust path of `message`, seen from a module directly inside the module
/// of `package` (the generated `<service>_http` and `<service>_grpc` modules).
pub(crate) fn rust_type(builder: &Builder, package: &str, message: &MessageDescriptor) -> String {
    let full = format!(".{}", message.full_name());
    let mut externs: Vec<(String, String)> = builder.extern_paths.clone();
    externs.push((
        ".google.protobuf".to_owned(),
        builder.well_known_types_path.clone(),
    ));
    externs.sort_by_key(|(proto, _)| std::cmp::Reverse(proto.len()));
    for (proto, rust) in &externs {
        if full == *proto {
            return rust.clone();
        }
        if let Some(rest) = full.strip_prefix(&format!("{proto}.")) {
            let parts: Vec<&str> = rest.split('.').collect();
            let (last, modules) = parts.split_last().expect("a type has a name");
            let mut path = rust.clone();
            for module in modules {
                path.push_str("::");
                path.push_str(&snake_ident(module));
            }
            return format!("{path}::{}", type_ident(last));
        }
    }
    let mut path = String::new();
    let own = message.package_name();
    if own == package {
        path.push_str("super::");
    } else {
        let depth = if package.is_empty() {
            0
        } else {
            package.split('.').count()
        };
        for _ in 0..=depth {
            path.push_str("super::");
        }
        for segment in own.split('.').filter(|s| !s.is_empty()) {
            path.push_str(&snake_ident(segment));
            path.push_str("::");
        }
    }
    let mut parents = Vec::new();
    let mut parent = message.parent_message();
    while let Some(p) = parent {
        parents.push(snake_ident(p.name()));
        parent = p.parent_message();
    }
    for module in parents.iter().rev() {
        path.push_str(module);
        path.push_str("::");
    }
    path.push_str(&type_ident(message.name()));
    path
}

/// How the body of a binding is read.
pub(crate) fn body_field(message: &MessageDescriptor, body: &str) -> io::Result<BodyModel> {
    match body {
        "" => Ok(BodyModel::None),
        "*" => Ok(BodyModel::All),
        field => {
            let model = resolve_field(message, field)?;
            if model.proto.contains('.') {
                return Err(io::Error::other("`body` must name a top-level field"));
            }
            Ok(BodyModel::Field(model))
        }
    }
}

//! An OpenAPI 3.0 document of a package's HTTP bindings, with JSON schemas
//! of the messages as the generated serde code encodes them.

use std::collections::BTreeMap;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::http_rule::BodyModel;
use crate::model::{FieldModel, Package, is_well_known};

/// The schema name of Kratos's error body.
const ERROR_SCHEMA: &str = "kratos.Error";

struct Schemas {
    proto_names: bool,
    defs: BTreeMap<String, Value>,
}

impl Schemas {
    fn reference(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(schema) = well_known(message) {
            return schema;
        }
        let name = message.full_name().to_owned();
        if !self.defs.contains_key(&name) {
            self.defs.insert(name.clone(), Value::Null); // breaks cycles
            let schema = self.message(message);
            self.defs.insert(name.clone(), schema);
        }
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    fn message(&mut self, message: &MessageDescriptor) -> Value {
        let mut properties = Map::new();
        for field in message.fields() {
            let key = if self.proto_names {
                field.name().to_owned()
            } else {
                field.json_name().to_owned()
            };
            let schema = self.field(&field);
            let description = comment(message.parent_file_descriptor_proto(), field.path());
            properties.insert(key, with_description(schema, description));
        }
        let schema = json!({ "type": "object", "properties": properties });
        with_description(
            schema,
            comment(message.parent_file_descriptor_proto(), message.path()),
        )
    }

    fn field(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            let value = match field.kind() {
                Kind::Message(entry) => entry.map_entry_value_field(),
                _ => return json!({ "type": "object" }),
            };
            return json!({ "type": "object", "additionalProperties": self.single(&value) });
        }
        let single = self.single(field);
        if field.is_list() {
            json!({ "type": "array", "items": single })
        } else {
            single
        }
    }

    fn single(&mut self, field: &FieldDescriptor) -> Value {
        match field.kind() {
            Kind::Double => json!({ "type": "number", "format": "double" }),
            Kind::Float => json!({ "type": "number", "format": "float" }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({ "type": "integer", "format": "int32" })
            }
            Kind::Uint32 | Kind::Fixed32 => json!({ "type": "integer", "format": "uint32" }),
            // proto3 JSON encodes 64-bit integers as strings.
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({ "type": "string", "format": "int64" })
            }
            Kind::Uint64 | Kind::Fixed64 => json!({ "type": "string", "format": "uint64" }),
            Kind::Bool => json!({ "type": "boolean" }),
            Kind::String => json!({ "type": "string" }),
            Kind::Bytes => json!({ "type": "string", "format": "byte" }),
            Kind::Enum(e) => {
                let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
                json!({ "type": "string", "enum": names, "format": "enum" })
            }
            Kind::Message(m) => self.reference(&m),
        }
    }
}

/// The leading comment of the element at `path` in `file` (from the source
/// info protox keeps), trimmed.
pub(crate) fn comment(file: &prost_types::FileDescriptorProto, path: &[i32]) -> Option<String> {
    let info = file.source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let text = location.leading_comments.as_deref()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn with_description(mut schema: Value, description: Option<String>) -> Value {
    if let (Some(description), Some(map)) = (description, schema.as_object_mut()) {
        if map.contains_key("$ref") {
            // A `$ref` takes no siblings in OpenAPI 3.0.
            return schema;
        }
        map.insert("description".into(), Value::String(description));
    }
    schema
}

fn well_known(message: &MessageDescriptor) -> Option<Value> {
    if !is_well_known(message) {
        return None;
    }
    Some(match message.name() {
        "Timestamp" => json!({ "type": "string", "format": "date-time" }),
        "Duration" => json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$" }),
        "FieldMask" => json!({ "type": "string", "format": "field-mask" }),
        "Empty" => json!({ "type": "object" }),
        "Struct" => json!({ "type": "object", "additionalProperties": true }),
        "ListValue" => json!({ "type": "array", "items": {} }),
        "Value" | "Any" => json!({}),
        "StringValue" => json!({ "type": "string" }),
        "BytesValue" => json!({ "type": "string", "format": "byte" }),
        "BoolValue" => json!({ "type": "boolean" }),
        "Int32Value" | "UInt32Value" => json!({ "type": "integer" }),
        "Int64Value" | "UInt64Value" => json!({ "type": "string", "format": "int64" }),
        "FloatValue" | "DoubleValue" => json!({ "type": "number" }),
        _ => json!({ "type": "object" }),
    })
}

fn emitted(proto_names: bool, field: &FieldModel) -> &str {
    if proto_names {
        &field.proto
    } else {
        &field.json
    }
}

/// The OpenAPI document of `package`.
pub(crate) fn generate(package: &Package) -> Value {
    let mut schemas = Schemas {
        proto_names: package.proto_names,
        defs: BTreeMap::new(),
    };
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags = Vec::new();
    for service in &package.services {
        tags.push(json!({ "name": service.name, "description": format!("gRPC service `{}`", service.full_name) }));
        for method in &service.methods {
            for (index, binding) in method.bindings.iter().enumerate() {
                let verb = binding.method.to_ascii_lowercase();
                if ![
                    "get", "put", "post", "delete", "patch", "head", "options", "trace",
                ]
                .contains(&verb.as_str())
                {
                    continue;
                }
                let mut parameters = Vec::new();
                for var in &binding.vars {
                    parameters.push(json!({
                        "name": var.field.proto,
                        "in": "path",
                        "required": true,
                        "schema": schemas.single(&var.field.descriptor),
                    }));
                }
                for field in &binding.query {
                    parameters.push(json!({
                        "name": emitted(package.proto_names, field),
                        "in": "query",
                        "schema": schemas.field(&field.descriptor),
                    }));
                }
                let mut operation = Map::new();
                operation.insert("tags".into(), json!([service.name]));
                let id = if index == 0 {
                    format!("{}_{}", service.name, method.name)
                } else {
                    format!("{}_{}{}", service.name, method.name, index)
                };
                operation.insert("operationId".into(), json!(id));
                operation.insert(
                    "summary".into(),
                    json!(format!("/{}/{}", service.full_name, method.name)),
                );
                if let Some(description) = &method.comment {
                    operation.insert("description".into(), json!(description));
                }
                if !parameters.is_empty() {
                    operation.insert("parameters".into(), Value::Array(parameters));
                }
                let request = match &binding.body {
                    BodyModel::None => None,
                    BodyModel::All => Some(schemas.reference(&method.input)),
                    BodyModel::Field(f) => Some(schemas.field(&f.descriptor)),
                };
                if let Some(schema) = request {
                    operation.insert(
                        "requestBody".into(),
                        json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
                    );
                }
                let reply = match &binding.response_body {
                    None => schemas.reference(&method.output),
                    Some(f) => schemas.field(&f.descriptor),
                };
                operation.insert(
                    "responses".into(),
                    json!({
                        "200": { "description": "OK", "content": { "application/json": { "schema": reply } } },
                        "default": {
                            "description": "A Kratos error",
                            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{ERROR_SCHEMA}") } } },
                        },
                    }),
                );
                paths
                    .entry(binding.openapi_path.clone())
                    .or_default()
                    .insert(verb, Value::Object(operation));
            }
        }
    }
    schemas.defs.insert(
        ERROR_SCHEMA.to_owned(),
        json!({
            "type": "object",
            "properties": {
                "code": { "type": "integer", "format": "int32" },
                "reason": { "type": "string" },
                "message": { "type": "string" },
                "metadata": { "type": "object", "additionalProperties": { "type": "string" } },
            },
        }),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": if package.name.is_empty() { "API".to_owned() } else { format!("{} API", package.name) },
            "version": "0.0.1",
        },
        "tags": tags,
        "paths": paths,
        "components": { "schemas": schemas.defs },
    })
}

/// `pub const OPENAPI_JSON: &str = r#"…"#;` for the package module.
pub(crate) fn constant(text: &str) -> String {
    let mut hashes = "#".to_owned();
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!(
        "\n/// The OpenAPI 3.0 document of this package's HTTP bindings, generated by\n/// kratos-build (also written to `OUT_DIR` as `<package>.openapi.json`).\n#[allow(dead_code)]\npub const OPENAPI_JSON: &str = r{hashes}\"{text}\"{hashes};\n"
    )
}

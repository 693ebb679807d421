//! `google.api.HttpRule`: reading the annotation and parsing its path
//! template into an axum route, a client URL and an OpenAPI path.

use std::io;

use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::model::{self, FieldModel};

/// One rule of a method: its own pattern, or one of `additional_bindings`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawRule {
    /// `GET`, `POST`, … or the `custom` kind (`*` for any).
    pub(crate) method: String,
    /// The path template (`/v1/{name=shelves/*}`).
    pub(crate) path: String,
    pub(crate) body: String,
    pub(crate) response_body: String,
}

impl RawRule {
    /// The binding of a method without annotation, as protoc-gen-go-http:
    /// `POST /<package.Service>/<Method>` with the whole message as body.
    pub(crate) fn default_for(service_full_name: &str, method: &str) -> Self {
        Self {
            method: "POST".to_owned(),
            path: format!("/{service_full_name}/{method}"),
            body: "*".to_owned(),
            response_body: String::new(),
        }
    }
}

fn string_field(message: &DynamicMessage, name: &str) -> String {
    message
        .get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn read_one(rule: &DynamicMessage) -> Option<RawRule> {
    let mut out = RawRule {
        body: string_field(rule, "body"),
        response_body: string_field(rule, "response_body"),
        ..RawRule::default()
    };
    for method in ["get", "put", "post", "delete", "patch"] {
        if rule.has_field_by_name(method) {
            out.method = method.to_ascii_uppercase();
            out.path = string_field(rule, method);
            return Some(out);
        }
    }
    if rule.has_field_by_name("custom") {
        let custom = rule.get_field_by_name("custom")?;
        let custom = custom.as_message()?;
        out.method = string_field(custom, "kind").to_ascii_uppercase();
        out.path = string_field(custom, "path");
        return Some(out);
    }
    None
}

/// The rule and its `additional_bindings`, in order.
pub(crate) fn read_rules(rule: &DynamicMessage) -> Vec<RawRule> {
    let mut rules: Vec<RawRule> = read_one(rule).into_iter().collect();
    if let Some(extra) = rule.get_field_by_name("additional_bindings")
        && let Some(list) = extra.as_list()
    {
        rules.extend(
            list.iter()
                .filter_map(|v| v.as_message())
                .filter_map(read_one),
        );
    }
    rules
}

/// The body of a binding.
#[derive(Debug, Clone)]
pub(crate) enum BodyModel {
    None,
    All,
    Field(FieldModel),
}

/// One segment of a path variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PartModel {
    Literal(String),
    Capture(String),
}

/// A path variable.
#[derive(Debug, Clone)]
pub(crate) struct VarModel {
    pub(crate) field: FieldModel,
    pub(crate) parts: Vec<PartModel>,
}

/// One HTTP binding of a method, ready for the generators.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) method: String,
    /// The template as written.
    pub(crate) template: String,
    /// The axum route.
    pub(crate) axum_path: String,
    /// The OpenAPI path (`/v1/{name}`).
    pub(crate) openapi_path: String,
    pub(crate) vars: Vec<VarModel>,
    pub(crate) body: BodyModel,
    pub(crate) response_body: Option<FieldModel>,
    /// Request fields a query parameter may set (not bound by path or body).
    pub(crate) query: Vec<FieldModel>,
    /// With `body: "*"`, the request fields a form body may set (not bound
    /// by the path).
    pub(crate) form: Vec<FieldModel>,
}

/// A parsed path template: literal segments and variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// `{field.path=pattern/segments}`; the pattern is `["*"]` for `{field}`.
    Variable(String, Vec<String>),
}

/// Parses a `google.api.http` path template.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Segment>, String> {
    let rest = template
        .strip_prefix('/')
        .ok_or_else(|| format!("path `{template}` must start with `/`"))?;
    let mut segments = Vec::new();
    let mut chars = rest.chars().peekable();
    let mut literal = String::new();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                if !literal.is_empty() {
                    return Err(format!(
                        "`{template}`: a variable must be a whole path segment"
                    ));
                }
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => inner.push(c),
                        None => return Err(format!("`{template}`: unclosed `{{`")),
                    }
                }
                let (field, pattern) = match inner.split_once('=') {
                    Some((field, pattern)) => (
                        field.trim().to_owned(),
                        pattern.split('/').map(str::to_owned).collect(),
                    ),
                    None => (inner.trim().to_owned(), vec!["*".to_owned()]),
                };
                if field.is_empty() || pattern.iter().any(|p| p.is_empty()) {
                    return Err(format!("`{template}`: empty variable or pattern segment"));
                }
                segments.push(Segment::Variable(field, pattern));
                match chars.next() {
                    None => {}
                    Some('/') => {}
                    Some(_) => {
                        return Err(format!(
                            "`{template}`: custom verbs (`:verb`) and text after a variable in the same segment are not supported"
                        ));
                    }
                }
            }
            '/' => {
                if literal.is_empty() {
                    return Err(format!("`{template}`: empty path segment"));
                }
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            ':' => {
                return Err(format!(
                    "`{template}`: custom verbs (`:verb`) are not supported"
                ));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

impl Binding {
    pub(crate) fn new(
        rule: &RawRule,
        input: &MessageDescriptor,
        output: &MessageDescriptor,
    ) -> io::Result<Self> {
        if rule.method.is_empty() || rule.path.is_empty() {
            return Err(io::Error::other("an HttpRule needs a method and a path"));
        }
        let segments = parse_template(&rule.path).map_err(io::Error::other)?;
        let mut axum_path = String::new();
        let mut openapi_path = String::new();
        let mut vars = Vec::new();
        let count = segments.len();
        for (index, segment) in segments.into_iter().enumerate() {
            match segment {
                Segment::Literal(lit) => {
                    axum_path.push('/');
                    axum_path.push_str(&lit);
                    openapi_path.push('/');
                    openapi_path.push_str(&lit);
                }
                Segment::Variable(field_path, pattern) => {
                    let field = model::resolve_field(input, &field_path)?;
                    if field.repeated() || field.descriptor.is_map() {
                        return Err(io::Error::other(format!(
                            "path variable `{field_path}` must be a singular field"
                        )));
                    }
                    let base = field.proto.replace('.', "__");
                    openapi_path.push_str(&format!("/{{{}}}", field.proto));
                    let mut parts = Vec::new();
                    let single = pattern.len() == 1;
                    for (i, piece) in pattern.iter().enumerate() {
                        let name = if single {
                            base.clone()
                        } else {
                            format!("{base}_{i}")
                        };
                        axum_path.push('/');
                        match piece.as_str() {
                            "*" => {
                                axum_path.push_str(&format!("{{{name}}}"));
                                parts.push(PartModel::Capture(name));
                            }
                            "**" => {
                                if index + 1 != count || i + 1 != pattern.len() {
                                    return Err(io::Error::other(format!(
                                        "`{}`: `**` must be the last segment",
                                        rule.path
                                    )));
                                }
                                axum_path.push_str(&format!("{{*{name}}}"));
                                parts.push(PartModel::Capture(name));
                            }
                            lit => {
                                axum_path.push_str(lit);
                                parts.push(PartModel::Literal(lit.to_owned()));
                            }
                        }
                    }
                    vars.push(VarModel { field, parts });
                }
            }
        }
        if axum_path.is_empty() {
            axum_path.push('/');
            openapi_path.push('/');
        }
        let body = model::body_field(input, &rule.body)?;
        let response_body = match rule.response_body.as_str() {
            "" => None,
            field => {
                let model = model::resolve_field(output, field)?;
                if model.proto.contains('.') {
                    return Err(io::Error::other(
                        "`response_body` must name a top-level field",
                    ));
                }
                Some(model)
            }
        };
        // The fields not bound by the path: with `body: "*"` a form body
        // sets them, else the query sets those outside the body field.
        let unbound = model::query_fields(input).into_iter().filter(|f| {
            !vars.iter().any(|v| {
                f.proto == v.field.proto || f.proto.starts_with(&format!("{}.", v.field.proto))
            })
        });
        let (query, form) = match &body {
            BodyModel::All => (Vec::new(), unbound.collect()),
            _ => (
                unbound
                    .filter(|f| {
                        let first = f.proto.split('.').next().unwrap_or_default();
                        !matches!(&body, BodyModel::Field(b) if b.proto == first)
                    })
                    .collect(),
                Vec::new(),
            ),
        };
        Ok(Self {
            method: rule.method.clone(),
            template: rule.path.clone(),
            axum_path,
            openapi_path,
            vars,
            body,
            response_body,
            query,
            form,
        })
    }

    /// The URL the client fills: each variable as `{emitted.dotted.path}`.
    pub(crate) fn client_path(&self, proto_names: bool) -> String {
        let mut out = String::new();
        let segments = parse_template(&self.template).unwrap_or_default();
        let mut vars = self.vars.iter();
        for segment in segments {
            out.push('/');
            match segment {
                Segment::Literal(lit) => out.push_str(&lit),
                Segment::Variable(..) => {
                    let var = vars.next().expect("one model per variable");
                    let name = if proto_names {
                        &var.field.proto
                    } else {
                        &var.field.json
                    };
                    out.push_str(&format!("{{{name}}}"));
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simple_and_pattern_variables() {
        assert_eq!(
            parse_template("/v1/{name=shelves/*}/books/{book.id}").unwrap(),
            vec![
                Segment::Literal("v1".into()),
                Segment::Variable("name".into(), vec!["shelves".into(), "*".into()]),
                Segment::Literal("books".into()),
                Segment::Variable("book.id".into(), vec!["*".into()]),
            ]
        );
    }

    #[test]
    fn rejects_what_axum_cannot_route() {
        assert!(parse_template("v1/x").is_err());
        assert!(parse_template("/v1/{name}:cancel").is_err());
        assert!(parse_template("/v1//x").is_err());
        assert!(parse_template("/v1/{name").is_err());
    }
}

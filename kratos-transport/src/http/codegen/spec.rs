//! What a generated binding is: the spec types `kratos-build` emits, built
//! with their `const` constructors (the structs are `#[non_exhaustive]`, so
//! they can grow without breaking generated code).

/// Where the request message comes from in the HTTP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodySpec {
    /// No body: fields not bound by the path come from the query.
    None,
    /// `body: "*"`: the whole message (minus path variables) is the body.
    All,
    /// `body: "field"`: that top-level field is the body, with its proto
    /// name and its JSON name.
    Field(&'static str, &'static str),
}

/// How the text of a path variable or query parameter becomes the JSON
/// value the message's deserializer expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextKind {
    /// A JSON string (strings, bytes, numbers — proto3 JSON accepts numbers
    /// as strings — and well-known types).
    Text,
    /// `true`/`false` become JSON booleans.
    Bool,
    /// An enum: a name stays a string, a number becomes a JSON number.
    Enum,
}

/// One request field that a path variable or a query parameter can set.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The dotted path with proto names (`order.user_id`).
    pub proto: &'static str,
    /// The dotted path with JSON names (`order.userId`).
    pub json: &'static str,
    /// How a text value (path or query) becomes JSON.
    pub kind: TextKind,
    /// A repeated field: each occurrence adds an element.
    pub repeated: bool,
    /// The text of the field's zero value (`0`, `false`, ``), used by the
    /// client for a path variable whose field is not set.
    pub zero: &'static str,
}

impl FieldSpec {
    /// The field at the dotted paths `proto` and `json`.
    pub const fn new(
        proto: &'static str,
        json: &'static str,
        kind: TextKind,
        repeated: bool,
        zero: &'static str,
    ) -> Self {
        Self {
            proto,
            json,
            kind,
            repeated,
            zero,
        }
    }

    /// The name the generated JSON uses: proto or JSON names.
    pub(super) fn emitted(&self, proto_names: bool) -> &'static str {
        if proto_names { self.proto } else { self.json }
    }
}

/// One segment of a path variable's value.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Part {
    /// A literal segment (`shelves` in `{name=shelves/*}`).
    Literal(&'static str),
    /// A captured route parameter, by its axum name.
    Capture(&'static str),
}

/// A path variable: which field it sets and how its value is assembled from
/// the captured route parameters.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PathVar {
    /// The field it sets.
    pub field: FieldSpec,
    /// The segments of its value, joined with `/`.
    pub parts: &'static [Part],
}

impl PathVar {
    /// The variable setting `field` from `parts`.
    pub const fn new(field: FieldSpec, parts: &'static [Part]) -> Self {
        Self { field, parts }
    }
}

/// One HTTP binding of an RPC method.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RouteSpec {
    /// The gRPC full method, recorded as the operation of the call.
    pub operation: &'static str,
    /// The HTTP method (`GET`, …), or `*` for any.
    pub method: &'static str,
    /// The axum route (`/v1/orders/{id}`).
    pub path: &'static str,
    /// The URL the client fills, with each path variable as
    /// `{dotted.json.path}` (`/v1/orders/{id}`).
    pub client_path: &'static str,
    /// The path variables.
    pub vars: &'static [PathVar],
    /// Which part of the request is the body.
    pub body: BodySpec,
    /// The JSON name of the reply field sent as the body (`response_body`).
    pub response_body: Option<&'static str>,
    /// The request fields a query parameter may set; with
    /// [`BodySpec::All`] (no query binding), those a form body may set.
    pub query: &'static [FieldSpec],
    /// Whether the generated JSON uses proto field names (else JSON names).
    pub proto_names: bool,
}

impl RouteSpec {
    /// The binding of `operation` to `method path`, filled by the client at
    /// `client_path`; no path variables, no body, the whole reply as the
    /// body, no query fields, JSON names, until the setters say otherwise.
    pub const fn new(
        operation: &'static str,
        method: &'static str,
        path: &'static str,
        client_path: &'static str,
    ) -> Self {
        Self {
            operation,
            method,
            path,
            client_path,
            vars: &[],
            body: BodySpec::None,
            response_body: None,
            query: &[],
            proto_names: false,
        }
    }

    /// The path variables.
    pub const fn vars(mut self, vars: &'static [PathVar]) -> Self {
        self.vars = vars;
        self
    }

    /// Which part of the request is the body.
    pub const fn body(mut self, body: BodySpec) -> Self {
        self.body = body;
        self
    }

    /// The reply field sent as the body.
    pub const fn response_body(mut self, field: &'static str) -> Self {
        self.response_body = Some(field);
        self
    }

    /// The request fields a query parameter may set; with
    /// [`BodySpec::All`] (no query binding), those a form body may set.
    pub const fn query(mut self, query: &'static [FieldSpec]) -> Self {
        self.query = query;
        self
    }

    /// Whether the JSON uses proto field names.
    pub const fn proto_names(mut self, proto_names: bool) -> Self {
        self.proto_names = proto_names;
        self
    }
}

//! The generated OpenAPI document: OpenAPI 3.0 shape, every annotated route,
//! every `$ref` resolvable.

use kratos_examples_api::api::order::v1::OPENAPI_JSON;
use serde_json::Value;

fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn openapi_document_is_valid_and_lists_every_route() {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0."));
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().unwrap();

    let expected = [
        ("/api/v1/orders", "post", "OrderService_CreateOrder"),
        ("/api/v1/orders/{id}", "get", "OrderService_GetOrder"),
        (
            "/api/v1/users/{user_id}/orders/{id}",
            "get",
            "OrderService_GetOrder1",
        ),
        ("/api/v1/orders", "get", "OrderService_ListOrders"),
        (
            "/api/v1/orders/{id}/status",
            "patch",
            "OrderService_UpdateOrderStatus",
        ),
    ];
    let count: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(count, expected.len(), "{paths:#?}");
    let mut ids = Vec::new();
    for (path, verb, id) in expected {
        let op = &paths[path][verb];
        assert_eq!(op["operationId"], id, "{verb} {path}");
        ids.push(id);
        assert!(op["responses"]["200"]["content"]["application/json"]["schema"].is_object());
        assert!(op["responses"]["default"].is_object());
        // Every `{var}` of the path is a required path parameter.
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for var in path
            .split('{')
            .skip(1)
            .map(|s| s.split('}').next().unwrap())
        {
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == var && p["in"] == "path" && p["required"] == true),
                "{verb} {path}: {var}"
            );
        }
        for p in &params {
            assert!(["path", "query"].contains(&p["in"].as_str().unwrap()));
            assert!(p["schema"].is_object());
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected.len(), "operationIds are unique");

    // ListOrders: its query parameters; CreateOrder: a JSON body.
    let list = &paths["/api/v1/orders"]["get"]["parameters"];
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["userId", "page", "pageSize", "status"]);
    assert_eq!(
        paths["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/api.order.v1.CreateOrderRequest"
    );

    // Schemas follow the JSON mapping and every $ref resolves.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let order = &schemas["api.order.v1.Order"]["properties"];
    assert_eq!(order["id"]["type"], "string");
    assert_eq!(order["id"]["format"], "int64");
    assert_eq!(order["status"]["enum"][2], "ORDER_STATUS_PAID");
    assert_eq!(order["items"]["type"], "array");
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a schema ref"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
}

#[test]
fn openapi_document_carries_the_proto_comments() {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    assert_eq!(
        doc["paths"]["/api/v1/orders/{id}"]["get"]["description"],
        "Gets one order by id."
    );
    let order = &doc["components"]["schemas"]["api.order.v1.Order"];
    assert_eq!(order["description"], "An order.");
    assert_eq!(
        order["properties"]["totalCents"]["description"],
        "Total in cents."
    );
}

//! Five processes on a test-started etcd: two user service instances
//! (sharing their users in etcd), product, order and the gateway. Through
//! the gateway's JSON API only: register, log in, order, run out of stock,
//! page, and read on while one user instance is SIGKILLed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kratos_testing::EtcdServer;
use serde_json::{Value, json};

use crate::client::Api;
use crate::program::Program;

fn conf(name: &str) -> String {
    format!(
        "{}/examples/configs/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The stock of product `id`, read through the gateway.
async fn stock(api: &Api, id: u32) -> i64 {
    let product = api
        .get(&format!("/api/v1/products/{id}"))
        .await
        .expect("GetProduct");
    product.body["stock"]
        .as_i64()
        .unwrap_or_else(|| panic!("a stock in {}", product.text))
}

async fn order(api: &Api, items: Value) -> crate::client::Reply {
    api.post("/api/v1/orders", json!({ "items": items }))
        .await
        .expect("CreateOrder answered")
}

struct Shop {
    _etcd: EtcdServer,
    users: Vec<Program>,
    _others: Vec<Program>,
    api: Api,
}

async fn start_shop() -> Shop {
    let etcd = EtcdServer::start().await;
    let endpoint = etcd.endpoint();
    let env = [("REGISTRY", "etcd"), ("ETCD_ENDPOINT", endpoint.as_str())];
    let start = |example: &'static str, config: &'static str, endpoints| {
        let args = ["--conf".to_owned(), conf(config)];
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Program::start(example, &args, &env, endpoints).await
        }
    };
    let users = vec![
        start("user_service", "user", 2).await,
        start("user_service", "user", 2).await,
    ];
    let product = start("product_service", "product", 2).await;
    let order = start("order_service", "order", 2).await;
    let gateway = start("gateway", "gateway", 1).await;
    let api = Api::new(gateway.http());
    Shop {
        _etcd: etcd,
        users,
        _others: vec![product, order, gateway],
        api,
    }
}

async fn register_and_login(api: &Api, username: &str) -> (i64, Api) {
    let password = format!("{username}-password");
    let user = api
        .post(
            "/api/v1/users",
            json!({"username": username, "email": format!("{username}@example.com"), "password": password}),
        )
        .await
        .expect("Register answered");
    assert_eq!(user.status, 200, "{}", user.text);
    assert!(user.body.get("password").is_none(), "{}", user.text);
    let id: i64 = user.body["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("an int64");
    let login = api
        .post(
            "/api/v1/login",
            json!({"username": username, "password": password}),
        )
        .await
        .expect("Login answered");
    assert_eq!(login.status, 200, "{}", login.text);
    (
        id,
        api.with_token(login.body["token"].as_str().expect("a token")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_processes_register_order_page_and_survive_a_killed_user_instance() {
    let _serial = crate::program::serial().await;
    let mut shop = start_shop().await;
    let api = shop.api.clone();

    // Users: shared by both instances, whichever the gateway's balancer picks.
    let (carol, carol_api) = register_and_login(&api, "carol").await;
    let (_, dave_api) = register_and_login(&api, "dave").await;
    for _ in 0..4 {
        let again = api
            .post(
                "/api/v1/login",
                json!({"username": "carol", "password": "carol-password"}),
            )
            .await
            .expect("Login answered");
        assert_eq!(
            again.status, 200,
            "every instance knows carol: {}",
            again.text
        );
    }
    let taken = api
        .post(
            "/api/v1/users",
            json!({"username": "carol", "email": "c@example.com", "password": "another-password"}),
        )
        .await
        .expect("Register answered");
    assert_eq!(
        (taken.status, taken.reason()),
        (409, "USERNAME_TAKEN"),
        "{}",
        taken.text
    );
    let wrong = api
        .post(
            "/api/v1/login",
            json!({"username": "carol", "password": "not-her-password"}),
        )
        .await
        .expect("Login answered");
    assert_eq!(
        (wrong.status, wrong.reason()),
        (401, "INVALID_CREDENTIALS"),
        "{}",
        wrong.text
    );

    // 50 concurrent orders of one monitor, 20 in stock: exactly 20 succeed.
    assert_eq!(stock(&api, 3).await, 20);
    let orders: Vec<_> = (0..50)
        .map(|_| {
            let api = carol_api.clone();
            tokio::spawn(
                async move { order(&api, json!([{"productId": "3", "quantity": 1}])).await },
            )
        })
        .collect();
    let (mut placed, mut out_of_stock) = (0, 0);
    for reply in orders {
        let reply = reply.await.expect("the order task");
        match (reply.status, reply.reason()) {
            (200, _) => placed += 1,
            (409, "OUT_OF_STOCK") => out_of_stock += 1,
            _ => panic!("an order neither placed nor out of stock: {}", reply.text),
        }
    }
    assert_eq!((placed, out_of_stock), (20, 30));
    assert_eq!(stock(&api, 3).await, 0);

    // One order: stock taken, the order returned, readable, for carol only.
    let keyboards = order(&carol_api, json!([{"productId": "1", "quantity": 2}])).await;
    assert_eq!(keyboards.status, 200, "{}", keyboards.text);
    assert_eq!(keyboards.body["totalCents"], json!("9998"));
    assert_eq!(keyboards.body["status"], json!("ORDER_STATUS_PENDING"));
    assert_eq!(keyboards.body["userId"], json!(carol.to_string()));
    assert_eq!(stock(&api, 1).await, 98);
    let id = keyboards.body["id"].as_str().expect("an order id");
    let read = carol_api
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .expect("GetOrder");
    assert_eq!(read.body, keyboards.body);
    let foreign = dave_api
        .get(&format!("/api/v1/orders/{id}"))
        .await
        .expect("GetOrder");
    assert_eq!(
        (foreign.status, foreign.reason()),
        (404, "ORDER_NOT_FOUND"),
        "{}",
        foreign.text
    );

    // The second item is out of stock: 409 naming it, the first given back.
    let out = order(
        &carol_api,
        json!([{"productId": "1", "quantity": 3}, {"productId": "3", "quantity": 1}]),
    )
    .await;
    assert_eq!(
        (out.status, out.reason()),
        (409, "OUT_OF_STOCK"),
        "{}",
        out.text
    );
    assert_eq!(
        out.body["metadata"]["product_id"],
        json!("3"),
        "{}",
        out.text
    );
    assert_eq!(
        stock(&api, 1).await,
        98,
        "the keyboards reserved first are back"
    );

    // Pages of carol's 21 orders; dave has none.
    let page = |n: u32| format!("/api/v1/orders?page={n}&pageSize=10");
    let first = carol_api.get(&page(1)).await.expect("ListOrders");
    let third = carol_api.get(&page(3)).await.expect("ListOrders");
    assert_eq!(first.body["total"], json!(21), "{}", first.text);
    assert_eq!(first.body["orders"].as_array().map(Vec::len), Some(10));
    assert_eq!(third.body["orders"].as_array().map(Vec::len), Some(1));
    let everyone = first.body["orders"].as_array().into_iter().flatten();
    assert!(
        everyone
            .clone()
            .all(|o| o["userId"] == json!(carol.to_string()))
    );
    let none = dave_api.get("/api/v1/orders").await.expect("ListOrders");
    assert_eq!(none.body["total"], json!(0), "{}", none.text);

    // Reads through the gateway while one user instance is SIGKILLed.
    const CALLS: usize = 2_000;
    const KILL_AFTER: usize = 500;
    const WORKERS: usize = 8;
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let started = Instant::now();
    let load: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (api, done, failures) = (carol_api.clone(), done.clone(), failures.clone());
            tokio::spawn(async move {
                while done.fetch_add(1, Ordering::SeqCst) < CALLS {
                    let reply = api.get(&format!("/api/v1/users/{carol}")).await;
                    match reply {
                        Ok(r) if r.status == 200 => {}
                        Ok(r) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("{} {}", r.status, r.reason()))
                        }
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::SeqCst) < KILL_AFTER && Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    shop.users[0].kill().await;
    let killed_at = done.load(Ordering::SeqCst);
    for worker in load {
        tokio::time::timeout(Duration::from_secs(60), worker)
            .await
            .expect("the load finishes within a minute")
            .expect("a load worker");
    }
    let failures = failures.lock().unwrap().clone();
    eprintln!(
        "shop kill: {CALLS} GET /api/v1/users/{{id}} through the gateway from {WORKERS} workers, \
         user instance 1 of 2 SIGKILLed after {killed_at}: {} failed {:?}, {:?} in all",
        failures.len(),
        failures,
        started.elapsed()
    );
    // Measured 0 (the goal); at most the calls in flight at the kill may
    // fail, never the calls after it.
    assert!(
        failures.len() <= WORKERS,
        "reads route around the killed instance: {failures:?}"
    );
    // The survivor still answers writes' prerequisites too.
    let after = order(&carol_api, json!([{"productId": "2", "quantity": 1}])).await;
    assert_eq!(after.status, 200, "{}", after.text);
}

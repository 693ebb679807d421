//! The user service: registration, lookup and password checks, over the
//! store of its config (`user.store`: `memory` for one instance, `etcd` for
//! instances that share their users). Passwords are hashed with argon2id (a
//! salt per user) off the async threads, and never leave the service.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use kratos::config::Config;
use kratos::{App, AppBuilder, Error};
use kratos_examples_api::api::user::v1::user_service_server::UserService;
use kratos_examples_api::api::user::v1::{
    CreateUserRequest, ErrorReason, GetUserRequest, ListUsersReply, ListUsersRequest, User,
    VerifyPasswordRequest, user_service_grpc, user_service_http,
};
use serde::Deserialize;
use tonic::{Request, Response, Status};

use crate::store::{NewUser, Store};
use crate::support::{self, BoxError, Registry, RegistryConf};

/// The `user` config section.
#[derive(Debug, Deserialize)]
pub struct UserConf {
    /// The HTTP server's address.
    pub http: std::net::SocketAddr,
    /// The gRPC server's address.
    pub grpc: std::net::SocketAddr,
    /// Where users are kept: `memory` (default) or `etcd` (the
    /// `registry.etcd` cluster, shared by every instance).
    #[serde(default = "memory")]
    pub store: String,
    /// Users created at start unless they exist (demo accounts).
    #[serde(default)]
    pub seed: Vec<Seed>,
}

fn memory() -> String {
    "memory".into()
}

/// A user the service starts with.
#[derive(Debug, Deserialize)]
pub struct Seed {
    pub username: String,
    pub email: String,
    pub password: String,
}

/// The users, in the store the config names.
pub struct Users {
    store: Store,
}

fn invalid(message: impl Into<String>) -> Error {
    ErrorReason::InvalidUser.error(message)
}

fn check_new(req: &CreateUserRequest) -> Result<(), Error> {
    let name_ok = (3..=32).contains(&req.username.len())
        && req
            .username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(
            invalid("username: 3 to 32 of a-z, 0-9 and _").with_metadata("field", "username")
        );
    }
    if !req.email.contains('@') || req.email.len() > 254 {
        return Err(invalid("email: an address with @").with_metadata("field", "email"));
    }
    if !(8..=128).contains(&req.password.len()) {
        return Err(invalid("password: 8 to 128 characters").with_metadata("field", "password"));
    }
    Ok(())
}

/// Hashes on the blocking pool: argon2 takes tens of milliseconds by design.
async fn hash(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| Error::internal_server("HASH", e.to_string()))?
    .map_err(|e| Error::internal_server("HASH", e.to_string()))
}

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

fn not_found(id: i64) -> Error {
    ErrorReason::UserNotFound
        .error(format!("user {id} not found"))
        .with_metadata("id", id.to_string())
}

impl Users {
    /// Registers a user: validated, hashed, then stored if the name is free.
    pub async fn create(&self, req: CreateUserRequest) -> Result<User, Error> {
        check_new(&req)?;
        if self.store.find(&req.username).await?.is_some() {
            // Checked before hashing too, to spare the work.
            return Err(ErrorReason::UsernameTaken
                .error(format!("username {} is taken", req.username))
                .with_metadata("username", req.username));
        }
        let stored = self
            .store
            .insert(NewUser {
                password_hash: hash(req.password).await?,
                username: req.username,
                email: req.email,
            })
            .await?;
        tracing::info!(id = stored.id, username = %stored.username, "user registered");
        Ok(stored.user())
    }
}

#[tonic::async_trait]
impl UserService for Users {
    async fn create_user(&self, req: Request<CreateUserRequest>) -> Result<Response<User>, Status> {
        Ok(Response::new(self.create(req.into_inner()).await?))
    }

    async fn get_user(&self, req: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        let id = req.into_inner().id;
        let stored = self.store.get(id).await?.ok_or_else(|| not_found(id))?;
        Ok(Response::new(stored.user()))
    }

    async fn list_users(
        &self,
        req: Request<ListUsersRequest>,
    ) -> Result<Response<ListUsersReply>, Status> {
        let req = req.into_inner();
        let page = support::Page::new(req.page, req.page_size);
        let (total, users) = self.store.list(page).await?;
        Ok(Response::new(ListUsersReply {
            total: total as i32,
            users,
        }))
    }

    async fn verify_password(
        &self,
        req: Request<VerifyPasswordRequest>,
    ) -> Result<Response<User>, Status> {
        let req = req.into_inner();
        let found = self.store.find(&req.username).await?;
        // Unknown user or wrong password: one answer, so names can't be probed.
        let denied =
            || Status::from(ErrorReason::InvalidCredentials.error("wrong username or password"));
        let Some(stored) = found else {
            return Err(denied());
        };
        if verify(req.password, stored.password_hash.clone()).await {
            Ok(Response::new(stored.user()))
        } else {
            Err(denied())
        }
    }
}

async fn store(conf: &UserConf, config: &Config) -> Result<Store, BoxError> {
    match conf.store.as_str() {
        "memory" => Ok(Store::memory()),
        #[cfg(feature = "etcd")]
        "etcd" => {
            let registry: RegistryConf = support::section(config, "registry")?;
            Ok(Store::etcd(&registry.etcd).await?)
        }
        other => Err(format!(
            "user.store: `{other}` is not memory or etcd (etcd needs `--features etcd`)"
        )
        .into()),
    }
}

/// The user service's App, seeded from `user.seed`: gRPC and HTTP/JSON,
/// registered as `user`.
pub async fn app(config: &Config, registry: &Registry) -> Result<AppBuilder, BoxError> {
    let conf: UserConf = support::section(config, "user")?;
    let users = Arc::new(Users {
        store: store(&conf, config).await?,
    });
    for seed in &conf.seed {
        let created = users
            .create(CreateUserRequest {
                username: seed.username.clone(),
                email: seed.email.clone(),
                password: seed.password.clone(),
            })
            .await;
        match created {
            Err(e) if e.reason() == "USERNAME_TAKEN" => {} // another instance seeded it
            other => drop(other?),
        }
    }
    Ok(App::builder()
        .name("user")
        .version("v1.0.0")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(
            support::http_server(conf.http)
                .merge(user_service_http::router(users.clone()))
                .build(),
        )
        .server(
            support::grpc_server(conf.grpc)
                .add_service(user_service_grpc::server(users))
                .build(),
        ))
}

//! Where the user service keeps its users: in this process (`memory`, one
//! instance), or in etcd (`etcd`), which every instance shares, so a user
//! registered through one instance logs in through any other.
//!
//! In etcd, under `/shop/users/`: `next` is the next id, `by-name/{username}`
//! holds a user's id and `by-id/{id:020}` the user as JSON (the zero-padded
//! id keeps the keys in id order). Registration is one transaction that
//! claims the name and the id together, so two instances never hand out the
//! same name or id.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use kratos::Error;
use kratos_examples_api::api::user::v1::{ErrorReason, User};
use serde::{Deserialize, Serialize};

use crate::support::Page;

/// A user as stored: the password only as its argon2 hash (PHC string).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
}

impl Stored {
    /// The user as the API returns it: no hash.
    pub fn user(&self) -> User {
        User {
            id: self.id,
            username: self.username.clone(),
            email: self.email.clone(),
        }
    }
}

/// A new user, before it has an id.
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
}

impl NewUser {
    fn with_id(self, id: i64) -> Stored {
        Stored {
            id,
            username: self.username,
            email: self.email,
            password_hash: self.password_hash,
        }
    }
}

fn taken(username: &str) -> Error {
    ErrorReason::UsernameTaken
        .error(format!("username {username} is taken"))
        .with_metadata("username", username.to_owned())
}

/// The users of the `memory` store.
#[derive(Debug, Default)]
pub struct Table {
    by_id: BTreeMap<i64, Stored>,
    by_name: HashMap<String, i64>,
}

/// The users' storage.
pub enum Store {
    /// In this process.
    Memory(Mutex<Table>),
    /// In etcd, shared by every instance (boxed: the client is large).
    #[cfg(feature = "etcd")]
    Etcd(Box<etcd::EtcdStore>),
}

impl Store {
    /// An empty store in this process.
    pub fn memory() -> Self {
        Self::Memory(Mutex::default())
    }

    /// The store in the etcd cluster of `endpoints`.
    #[cfg(feature = "etcd")]
    pub async fn etcd(endpoints: &[String]) -> Result<Self, Error> {
        Ok(Self::Etcd(Box::new(
            etcd::EtcdStore::connect(endpoints).await?,
        )))
    }

    /// Adds `user` with the next id; 409 `USERNAME_TAKEN` if the name is.
    pub async fn insert(&self, user: NewUser) -> Result<Stored, Error> {
        match self {
            Self::Memory(table) => {
                let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
                if table.by_name.contains_key(&user.username) {
                    return Err(taken(&user.username));
                }
                let id = table.by_id.keys().next_back().map_or(1, |last| last + 1);
                let stored = user.with_id(id);
                table.by_name.insert(stored.username.clone(), id);
                table.by_id.insert(id, stored.clone());
                Ok(stored)
            }
            #[cfg(feature = "etcd")]
            Self::Etcd(etcd) => etcd.insert(user).await,
        }
    }

    /// The user `id`, if there is one.
    pub async fn get(&self, id: i64) -> Result<Option<Stored>, Error> {
        match self {
            Self::Memory(table) => Ok(table
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .by_id
                .get(&id)
                .cloned()),
            #[cfg(feature = "etcd")]
            Self::Etcd(etcd) => etcd.get(id).await,
        }
    }

    /// The user named `username`, if there is one.
    pub async fn find(&self, username: &str) -> Result<Option<Stored>, Error> {
        match self {
            Self::Memory(table) => {
                let table = table.lock().unwrap_or_else(|e| e.into_inner());
                Ok(table
                    .by_name
                    .get(username)
                    .and_then(|id| table.by_id.get(id))
                    .cloned())
            }
            #[cfg(feature = "etcd")]
            Self::Etcd(etcd) => etcd.find(username).await,
        }
    }

    /// One page of the users by id, and how many there are.
    pub async fn list(&self, page: Page) -> Result<(usize, Vec<User>), Error> {
        match self {
            Self::Memory(table) => {
                let table = table.lock().unwrap_or_else(|e| e.into_inner());
                Ok((
                    table.by_id.len(),
                    page.of(table.by_id.values().map(Stored::user)),
                ))
            }
            #[cfg(feature = "etcd")]
            Self::Etcd(etcd) => etcd.list(page).await,
        }
    }
}

#[cfg(feature = "etcd")]
mod etcd {
    use etcd_client::{Client, Compare, CompareOp, GetOptions, Txn, TxnOp};
    use kratos::Error;
    use kratos_examples_api::api::user::v1::User;

    use super::{NewUser, Stored, taken};
    use crate::support::Page;

    const PREFIX: &str = "/shop/users/";
    /// Registrations racing for the next id retry this often before 503.
    const ATTEMPTS: usize = 32;

    fn unavailable(e: impl std::fmt::Display) -> Error {
        Error::service_unavailable("USER_STORE", format!("etcd: {e}"))
    }

    fn corrupt(e: impl std::fmt::Display) -> Error {
        Error::internal_server("USER_STORE", format!("a stored user does not parse: {e}"))
    }

    fn id_key(id: i64) -> String {
        format!("{PREFIX}by-id/{id:020}")
    }

    fn name_key(username: &str) -> String {
        format!("{PREFIX}by-name/{username}")
    }

    /// The users in etcd.
    pub struct EtcdStore {
        client: Client,
    }

    impl EtcdStore {
        pub async fn connect(endpoints: &[String]) -> Result<Self, Error> {
            let client = Client::connect(endpoints, None)
                .await
                .map_err(unavailable)?;
            Ok(Self { client })
        }

        /// Claims the name and the next id in one transaction; when another
        /// registration took the id first, reads the counter again.
        pub async fn insert(&self, user: NewUser) -> Result<Stored, Error> {
            let mut client = self.client.clone();
            let next = format!("{PREFIX}next");
            for _ in 0..ATTEMPTS {
                let current = client.get(next.as_str(), None).await.map_err(unavailable)?;
                let (id, counter_unchanged) = match current.kvs().first() {
                    Some(kv) => (
                        kv.value_str()
                            .map_err(corrupt)?
                            .parse::<i64>()
                            .map_err(corrupt)?,
                        Compare::mod_revision(next.as_str(), CompareOp::Equal, kv.mod_revision()),
                    ),
                    None => (1, Compare::version(next.as_str(), CompareOp::Equal, 0)),
                };
                let name = name_key(&user.username);
                let stored = Stored {
                    id,
                    username: user.username.clone(),
                    email: user.email.clone(),
                    password_hash: user.password_hash.clone(),
                };
                let json = serde_json::to_string(&stored).map_err(corrupt)?;
                let txn = Txn::new()
                    .when([
                        counter_unchanged,
                        Compare::version(name.as_str(), CompareOp::Equal, 0),
                    ])
                    .and_then([
                        TxnOp::put(next.as_str(), (id + 1).to_string(), None),
                        TxnOp::put(name.as_str(), id.to_string(), None),
                        TxnOp::put(id_key(id), json, None),
                    ]);
                if client.txn(txn).await.map_err(unavailable)?.succeeded() {
                    return Ok(stored);
                }
                if self.find(&user.username).await?.is_some() {
                    return Err(taken(&user.username));
                }
            }
            Err(unavailable("too many registrations at once; try again"))
        }

        pub async fn get(&self, id: i64) -> Result<Option<Stored>, Error> {
            let reply = self
                .client
                .clone()
                .get(id_key(id), None)
                .await
                .map_err(unavailable)?;
            reply
                .kvs()
                .first()
                .map(|kv| serde_json::from_slice(kv.value()).map_err(corrupt))
                .transpose()
        }

        pub async fn find(&self, username: &str) -> Result<Option<Stored>, Error> {
            let reply = self
                .client
                .clone()
                .get(name_key(username), None)
                .await
                .map_err(unavailable)?;
            match reply.kvs().first() {
                Some(kv) => {
                    let id = kv.value_str().map_err(corrupt)?.parse().map_err(corrupt)?;
                    self.get(id).await
                }
                None => Ok(None),
            }
        }

        /// Reads every user: this example's user table is small.
        pub async fn list(&self, page: Page) -> Result<(usize, Vec<User>), Error> {
            let reply = self
                .client
                .clone()
                .get(
                    format!("{PREFIX}by-id/"),
                    Some(GetOptions::new().with_prefix()),
                )
                .await
                .map_err(unavailable)?;
            let users = reply
                .kvs()
                .iter()
                .map(|kv| serde_json::from_slice::<Stored>(kv.value()).map_err(corrupt))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((users.len(), page.of(users.iter().map(Stored::user))))
        }
    }
}

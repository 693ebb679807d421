//! Which gRPC methods answer with one message, read from the encoded
//! `FileDescriptorSet`s registered for reflection.
//!
//! A server guards each streamed reply against a panic while it is polled
//! (the recovery middleware answers it in the trailers); a reply of one
//! message runs no handler code while its body is polled, so it needs no
//! guard. Only the fields that say so are decoded (package, services,
//! methods, `server_streaming`): prost skips every other field of a
//! descriptor without decoding it, so a set is read in microseconds where
//! decoding it whole took milliseconds (see [`reflection`](super::reflection)).

use prost::Message;

/// `google.protobuf.FileDescriptorSet`, only its files.
#[derive(Clone, PartialEq, Message)]
struct FileSet {
    #[prost(message, repeated, tag = "1")]
    file: Vec<File>,
}

/// `google.protobuf.FileDescriptorProto`, only its package and services.
#[derive(Clone, PartialEq, Message)]
struct File {
    #[prost(string, optional, tag = "2")]
    package: Option<String>,
    #[prost(message, repeated, tag = "6")]
    service: Vec<ServiceDescriptor>,
}

/// `google.protobuf.ServiceDescriptorProto`, only its name and methods.
#[derive(Clone, PartialEq, Message)]
struct ServiceDescriptor {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, repeated, tag = "2")]
    method: Vec<MethodDescriptor>,
}

/// `google.protobuf.MethodDescriptorProto`, only its name and whether the
/// server streams.
#[derive(Clone, PartialEq, Message)]
struct MethodDescriptor {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(bool, optional, tag = "6")]
    server_streaming: Option<bool>,
}

/// The request paths (`/package.Service/Method`) of the methods in `sets`
/// whose reply is one message (unary and client-streaming calls). A set that
/// does not decode adds nothing: its methods' replies stay guarded.
pub(crate) fn single_reply_paths<'a>(sets: impl IntoIterator<Item = &'a [u8]>) -> MethodPaths {
    let mut paths = MethodPaths::default();
    for set in sets {
        let Ok(set) = FileSet::decode(set) else {
            continue;
        };
        for file in set.file {
            let package = file.package.unwrap_or_default();
            for service in file.service {
                let service_name = service.name.unwrap_or_default();
                for method in service.method {
                    if method.server_streaming.unwrap_or(false) {
                        continue;
                    }
                    let method_name = method.name.unwrap_or_default();
                    let path = if package.is_empty() {
                        format!("/{service_name}/{method_name}")
                    } else {
                        format!("/{package}.{service_name}/{method_name}")
                    };
                    paths.insert(path.into_boxed_str());
                }
            }
        }
    }
    paths
}

/// A set of request paths, looked up at every call: by length first (an
/// index), then among the few paths of that length (sorted), so a lookup
/// compares the path once or twice instead of hashing it.
#[derive(Debug, Default)]
pub(crate) struct MethodPaths {
    by_length: Vec<Vec<Box<str>>>,
}

impl MethodPaths {
    fn insert(&mut self, path: Box<str>) {
        if self.by_length.len() <= path.len() {
            self.by_length.resize_with(path.len() + 1, Vec::new);
        }
        let same_length = &mut self.by_length[path.len()];
        if let Err(at) = same_length.binary_search(&path) {
            same_length.insert(at, path);
        }
    }

    /// Whether `path` is in the set.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.by_length
            .get(path.len())
            .is_some_and(|same_length| same_length.binary_search_by(|p| (**p).cmp(path)).is_ok())
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.by_length.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unary_and_client_streaming_methods_have_one_reply() {
        let paths = single_reply_paths([tonic_health::pb::FILE_DESCRIPTOR_SET]);
        assert!(paths.contains("/grpc.health.v1.Health/Check"), "{paths:?}");
        assert!(!paths.contains("/grpc.health.v1.Health/Chick"), "{paths:?}");
        assert!(
            !paths.contains("/grpc.health.v1.Health/Checks"),
            "{paths:?}"
        );
        assert!(
            !paths.contains("/grpc.health.v1.Health/Watch"),
            "Watch streams: {paths:?}"
        );
        let reflection = single_reply_paths([tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET]);
        assert!(
            reflection.is_empty(),
            "ServerReflectionInfo streams both ways: {reflection:?}"
        );
        assert!(
            single_reply_paths([&b"\xff\xff"[..]]).is_empty(),
            "not a set"
        );
    }
}

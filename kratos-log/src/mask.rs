//! [`Mask`]: the field names whose values are not logged.

use std::fmt;

use tracing::field::Field;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{Writer, debug_fn};

/// What a masked value is written as.
pub(crate) const MASKED: &str = "***";

/// Field names whose values are written as `***`: a name equal to one of
/// the keys (case-insensitive), or ending with `_key` or `.key`.
#[derive(Debug, Clone, Default)]
pub struct Mask {
    keys: Vec<String>,
}

impl Mask {
    /// Masks `keys`.
    pub fn new(keys: &[String]) -> Self {
        Self {
            keys: keys.iter().map(|k| k.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether the value of field `name` is masked.
    pub fn masks(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.keys.iter().any(|key| {
            name == *key
                || name
                    .strip_suffix(key.as_str())
                    .is_some_and(|head| head.ends_with('_') || head.ends_with('.'))
        })
    }

    /// The text formatter of event and span fields: `key=value`, the
    /// message bare, masked values as `***`.
    pub(crate) fn text_fields(self) -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
        debug_fn(
            move |writer: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug| match field.name()
            {
                "message" => write!(writer, "{value:?}"),
                name if self.masks(name) => write!(writer, "{name}={MASKED}"),
                name => write!(writer, "{name}={value:?}"),
            },
        )
        .delimited(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_equal_or_ending_with_a_key_are_masked() {
        let mask = Mask::new(&["password".into(), "Token".into()]);
        for name in ["password", "PASSWORD", "access_token", "req.password"] {
            assert!(mask.masks(name), "{name}");
        }
        for name in ["user", "passwords", "tokenizer", "mytoken"] {
            assert!(!mask.masks(name), "{name}");
        }
    }
}

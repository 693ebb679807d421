//! How generated code finds a message's [`Validate`] rules without
//! requiring every message to have some: at a call site where the message
//! type is concrete, `(&Probe(message)).check()` resolves to the
//! [`ByRules`] impl when the type implements [`Validate`], and to the
//! [`NoRules`] impl (nothing to check) otherwise, because method lookup
//! tries the receiver `&Probe` before it adds a reference.
//!
//! ```
//! use kratos_core::validate::{Validate, Violation};
//! use kratos_transport::http::codegen::validation::{ByRules as _, NoRules as _, Probe};
//!
//! struct Named(String);
//! impl Validate for Named {
//!     fn validate(&self) -> Result<(), Violation> {
//!         if self.0.is_empty() { Err(Violation::new("name", "required")) } else { Ok(()) }
//!     }
//! }
//! struct Free;
//!
//! assert!((&Probe(&Named(String::new()))).check().is_err());
//! assert!((&Probe(&Named("a".into()))).check().is_ok());
//! assert!((&Probe(&Free)).check().is_ok());
//! ```

use kratos_core::Error;
use kratos_core::validate::Validate;

/// A message whose rules are looked up.
#[derive(Debug)]
pub struct Probe<'a, T>(pub &'a T);

/// The rules of a message that implements [`Validate`].
pub trait ByRules {
    /// Runs the rules: a broken one is 400 `VALIDATOR`.
    fn check(&self) -> Result<(), Error>;
}

impl<T: Validate> ByRules for Probe<'_, T> {
    fn check(&self) -> Result<(), Error> {
        self.0.validate().map_err(Error::from)
    }
}

/// The rules of a message that has none.
pub trait NoRules {
    /// Nothing to check.
    fn check(&self) -> Result<(), Error>;
}

impl<T> NoRules for &Probe<'_, T> {
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

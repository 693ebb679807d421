//! Error helpers generated from `ErrorReason` (`(errors.default_code)` and
//! `(errors.code)`).

use kratos_examples_api::api::order::v1::{
    ErrorReason, error_internal_error, error_order_not_found, is_internal_error, is_invalid_order,
    is_order_not_found, is_payment_required,
};

#[test]
fn error_takes_code_from_the_value_or_the_default() {
    let err = ErrorReason::OrderNotFound.error("order 1 not found");
    assert_eq!(err.code(), 404);
    assert_eq!(err.reason(), "ORDER_NOT_FOUND");
    assert_eq!(err.message(), "order 1 not found");
    assert_eq!(ErrorReason::InvalidOrder.code(), 400);
    assert_eq!(ErrorReason::PaymentRequired.code(), 402);
    // No `(errors.code)`: the enum's default_code.
    assert_eq!(ErrorReason::InternalError.code(), 500);
    assert_eq!(error_internal_error("boom").code(), 500);
}

#[test]
fn is_helpers_match_reason_and_code() {
    let err = error_order_not_found("gone");
    assert!(is_order_not_found(&err));
    assert!(!is_invalid_order(&err));
    assert!(!is_payment_required(&err));
    assert!(is_internal_error(&ErrorReason::InternalError.error("x")));
    // Same reason, another code: not the same error (as Go Kratos's IsXxx).
    assert!(!is_order_not_found(&kratos::Error::new(
        500,
        "ORDER_NOT_FOUND",
        "x"
    )));
    // The helpers survive a trip through gRPC for codes gRPC can carry…
    let status: tonic::Status = ErrorReason::OrderNotFound.error("gone").into();
    assert!(is_order_not_found(&kratos::Error::from_status(&status)));
    // …but, as in Go Kratos, the HTTP code comes back from the gRPC code, so
    // a code without a gRPC equivalent (402 → UNKNOWN → 500) does not.
    let status: tonic::Status = ErrorReason::PaymentRequired.error("pay first").into();
    let wire = tonic::Status::from_header_map(status.into_http::<()>().headers()).unwrap();
    let back = kratos::Error::from_status(&wire);
    assert_eq!(back.reason(), "PAYMENT_REQUIRED");
    assert!(!is_payment_required(&back));
}

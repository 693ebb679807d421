//! Go Kratos's table between HTTP statuses and gRPC codes.

use tonic::Code;

/// The gRPC code for an HTTP status, as Go Kratos maps it; `Unknown` for the rest.
///
/// ```
/// use kratos_core::error::grpc_code_from_http;
/// assert_eq!(grpc_code_from_http(404), tonic::Code::NotFound);
/// assert_eq!(grpc_code_from_http(409), tonic::Code::Aborted);
/// ```
pub fn grpc_code_from_http(code: u16) -> Code {
    match code {
        200 => Code::Ok,
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        409 => Code::Aborted,
        429 => Code::ResourceExhausted,
        499 => Code::Cancelled,
        500 => Code::Internal,
        501 => Code::Unimplemented,
        503 => Code::Unavailable,
        504 => Code::DeadlineExceeded,
        _ => Code::Unknown,
    }
}

/// The HTTP status for a gRPC code, as Go Kratos maps it; 500 for the rest.
///
/// ```
/// use kratos_core::error::http_from_grpc_code;
/// assert_eq!(http_from_grpc_code(tonic::Code::AlreadyExists), 409);
/// assert_eq!(http_from_grpc_code(tonic::Code::DataLoss), 500);
/// ```
pub fn http_from_grpc_code(code: Code) -> u16 {
    match code {
        Code::Ok => 200,
        Code::Cancelled => 499,
        Code::Unknown => 500,
        Code::InvalidArgument => 400,
        Code::DeadlineExceeded => 504,
        Code::NotFound => 404,
        Code::AlreadyExists => 409,
        Code::PermissionDenied => 403,
        Code::ResourceExhausted => 429,
        Code::FailedPrecondition => 400,
        Code::Aborted => 409,
        Code::OutOfRange => 400,
        Code::Unimplemented => 501,
        Code::Internal => 500,
        Code::Unavailable => 503,
        Code::DataLoss => 500,
        Code::Unauthenticated => 401,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_kratos_table_both_ways() {
        let table = [
            (400, Code::InvalidArgument),
            (401, Code::Unauthenticated),
            (403, Code::PermissionDenied),
            (404, Code::NotFound),
            (409, Code::Aborted),
            (429, Code::ResourceExhausted),
            (499, Code::Cancelled),
            (500, Code::Internal),
            (501, Code::Unimplemented),
            (503, Code::Unavailable),
            (504, Code::DeadlineExceeded),
        ];
        for (http, grpc) in table {
            assert_eq!(grpc_code_from_http(http), grpc);
            assert_eq!(http_from_grpc_code(grpc), http);
        }
        assert_eq!(http_from_grpc_code(Code::AlreadyExists), 409);
        assert_eq!(http_from_grpc_code(Code::FailedPrecondition), 400);
        assert_eq!(http_from_grpc_code(Code::OutOfRange), 400);
        assert_eq!(http_from_grpc_code(Code::DataLoss), 500);
        assert_eq!(http_from_grpc_code(Code::Unknown), 500);
        assert_eq!(grpc_code_from_http(418), Code::Unknown);
    }
}

//! The size cap on messages, and the code a message over it is answered
//! with. The other limits a client meets (text lengths, line counts,
//! quantities, page sizes) are checked where each field is parsed and are
//! listed in `docs/LIMITS.md`.

/// The largest request message any RPC accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// gRPC's status-code table answers a message larger than the receiver's
/// limit with RESOURCE_EXHAUSTED; tonic's codec says OUT_OF_RANGE.
/// ticketd itself never answers OUT_OF_RANGE (a value out of range is
/// INVALID_ARGUMENT naming its field), so every OUT_OF_RANGE leaving the
/// server is the codec's, and is renamed here. Every such refusal comes
/// before the handler has a request, so the status is in the headers (a
/// trailers-only response).
pub fn size_cap_as_resource_exhausted(
    mut response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    let headers = response.headers_mut();
    let out_of_range = http::HeaderValue::from_static("11");
    if headers.get("grpc-status") == Some(&out_of_range) {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: tonic::Status) -> Option<String> {
        let response = size_cap_as_resource_exhausted(status.into_http());
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    #[test]
    fn a_message_over_the_cap_is_resource_exhausted() {
        let codec = tonic::Status::out_of_range("Error, decoded message length too large");
        assert_eq!(answered(codec).as_deref(), Some("8"));
    }

    #[test]
    fn every_other_status_passes_unchanged() {
        for status in [
            tonic::Status::invalid_argument("description: too long"),
            tonic::Status::failed_precondition("state"),
            tonic::Status::resource_exhausted("busy"),
        ] {
            let code = (status.code() as i32).to_string();
            assert_eq!(answered(status), Some(code));
        }
    }
}

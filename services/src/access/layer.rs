//! The access table at the gRPC door: one tower layer around the whole
//! server identifies the caller of every API call and refuses, with
//! PERMISSION_DENIED and before any service runs, a call the table does
//! not allow. Health and reflection are not API calls and pass; a path
//! that names no RPC passes too, for tonic to answer UNIMPLEMENTED.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::Method;
use crate::auth::Auth;
use crate::policy::PolicyHandle;

/// See the module documentation. The table is the one the policy in
/// force makes, asked at each call (a SIGHUP reload applies at once).
#[derive(Debug, Clone)]
pub struct AccessLayer {
    pub auth: Arc<Auth>,
    pub policy: PolicyHandle,
}

impl<S> tower::Layer<S> for AccessLayer {
    type Service = Access<S>;
    fn layer(&self, inner: S) -> Access<S> {
        Access {
            inner,
            auth: self.auth.clone(),
            policy: self.policy.clone(),
        }
    }
}

/// See [`AccessLayer`].
#[derive(Debug, Clone)]
pub struct Access<S> {
    inner: S,
    auth: Arc<Auth>,
    policy: PolicyHandle,
}

type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for Access<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Boxed<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let Some(method) = Method::from_path(request.uri().path()) else {
            return Box::pin(self.inner.call(request));
        };
        let metadata = tonic::metadata::MetadataMap::from_headers(request.headers().clone());
        let (actor, grants) = match self.auth.caller(&metadata) {
            Ok(caller) => caller,
            Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
        };
        let table = self.policy.access();
        if !table.allows(actor.role, method) {
            tracing::info!(
                actor = %actor.id,
                role = %actor.role,
                rpc = method.path(),
                "refused by the access table"
            );
            let status = table.refusal(actor.role, method);
            return Box::pin(async move { Ok(status.into_http()) });
        }
        request.extensions_mut().insert(actor);
        request.extensions_mut().insert(grants);
        Box::pin(self.inner.call(request))
    }
}

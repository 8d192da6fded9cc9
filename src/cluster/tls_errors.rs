//! TLS failures of the probe, as one sentence each: a certificate authority that does not
//! match the server (the usual sign of a recreated Kind cluster), a certificate for another
//! name or out of date, or a server that does not speak TLS at all.

use std::error::Error as StdError;

use rustls::CertificateError;

/// The rustls error somewhere in `e`'s chain. rustls errors reach us wrapped in `io::Error`s
/// (a connector's timeout layer wraps them once more), whose `source()` skips the wrapped error
/// itself, so each `io::Error` is opened too.
fn rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut todo: Vec<&(dyn StdError + 'static)> = vec![e];
    // Bounded: error chains are short; a cycle must not loop forever.
    for _ in 0..32 {
        let err = todo.pop()?;
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(source) = err.source() {
            todo.push(source);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            todo.push(inner);
        }
    }
    None
}

/// The sentence for a TLS failure of context `ctx` at `server`, or None for other errors.
pub fn explain(e: &kube::Error, ctx: &str, server: &str) -> Option<String> {
    let err = rustls_error(e)?;
    let recreate = match ctx.strip_prefix("kind-").filter(|n| !n.is_empty()) {
        Some(name) => format!("`kind export kubeconfig --name {name}`"),
        None => "`kind export kubeconfig --name NAME`".to_string(),
    };
    Some(match err {
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => format!(
            "the API server of context \"{ctx}\" at {server} presented a certificate that does \
             not match the certificate authority in the kubeconfig (another cluster now answers \
             there, or it was recreated); for a recreated Kind cluster run {recreate} to write \
             its current kubeconfig"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the certificate of the API server of context \"{ctx}\" is not valid for {server}; \
             use the server address the cluster's kubeconfig gives (for Kind: {recreate})"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => format!(
            "the certificate of the API server of context \"{ctx}\" at {server} is out of date \
             (or this machine's clock is wrong); check the clock, or renew the cluster's \
             certificates"
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "the server of context \"{ctx}\" at {server} does not speak TLS (plain HTTP?); check \
             the scheme of the server address in the kubeconfig"
        ),
        other => format!(
            "the TLS handshake with the API server of context \"{ctx}\" at {server} failed \
             ({other}); check the certificate data of that context in the kubeconfig"
        ),
    })
}

//! The sim's own certificate authority and credentials, made once per start, as `kind create
//! cluster` (through kubeadm) makes them for a real cluster: a CA, a serving certificate for
//! 127.0.0.1 and localhost, and a client certificate for the admin user that the kubeconfig
//! carries (docs/sim.md, "TLS and authentication").
//!
//! Keys are ECDSA P-256 (generated in about a millisecond; kubeadm's default is RSA 2048, which
//! clients do not care about). Only the ring crypto provider is used: a second rustls provider
//! in the process makes kube's client construction panic.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};

use super::kubeconfig::Credentials;

/// How a connection's client certificate was judged (after the TLS handshake, as the
/// apiserver's x509 authenticator does: an untrusted certificate is a 401, not a TLS failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCert {
    Absent,
    Trusted,
    Untrusted,
}

/// A sim's CA, serving certificate, admin client certificate and bearer token.
pub struct Identity {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key_der: Vec<u8>,
    client_cert_pem: String,
    client_key_pem: String,
    token: String,
    /// Verifies client certificates against the CA (used after the handshake).
    verifier: Arc<dyn ClientCertVerifier>,
}

impl std::fmt::Debug for Identity {
    // Never print keys or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

/// Why an identity could not be made (a library failure; never expected).
#[derive(Debug, thiserror::Error)]
#[error("cannot create the simulated cluster's certificates: {0}")]
pub struct IdentityError(String);

fn err(e: impl std::fmt::Display) -> IdentityError {
    IdentityError(e.to_string())
}

/// The one crypto provider kindscope uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Identity {
    /// A fresh CA and certificates for the cluster `name` (its control-plane node's name goes
    /// into the serving certificate too, as kubeadm puts it there).
    pub fn generate(name: &str) -> Result<Arc<Identity>, IdentityError> {
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca = CertificateParams::default();
        ca.distinguished_name.push(DnType::CommonName, "kubernetes");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(err)?;
        let mut server = CertificateParams::new(vec![
            format!("{name}-control-plane"),
            "kubernetes".to_string(),
            "kubernetes.default".to_string(),
            "kubernetes.default.svc".to_string(),
            "kubernetes.default.svc.cluster.local".to_string(),
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .or_else(|_| CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]))
        .map_err(err)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).map_err(err)?;

        let client_key = KeyPair::generate().map_err(err)?;
        let mut client = CertificateParams::default();
        client
            .distinguished_name
            .push(DnType::CommonName, "kubernetes-admin");
        client
            .distinguished_name
            .push(DnType::OrganizationName, "kubeadm:cluster-admins");
        client.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer).map_err(err)?;

        let mut roots = RootCertStore::empty();
        roots.add(ca_cert.der().clone()).map_err(err)?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(err)?;
        Ok(Arc::new(Identity {
            ca_pem: ca_cert.pem(),
            server_chain: vec![server_cert.der().clone()],
            server_key_der: server_key.serialize_der(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
            token: random_token()?,
            verifier,
        }))
    }

    /// The bearer token the sim accepts besides the client certificate (the only credential
    /// of a `--plain-http` sim).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The CA certificate (PEM), what a kubeconfig's `certificate-authority-data` holds.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// What a kubeconfig for this sim carries: CA and client certificate over TLS (as `kind`
    /// writes it), the bearer token over plain HTTP.
    pub fn credentials(&self, tls: bool) -> Credentials {
        if tls {
            Credentials {
                ca_pem: Some(self.ca_pem.clone()),
                client_cert_pem: Some(self.client_cert_pem.clone()),
                client_key_pem: Some(self.client_key_pem.clone()),
                token: None,
            }
        } else {
            Credentials {
                token: Some(self.token.clone()),
                ..Credentials::default()
            }
        }
    }

    /// The TLS server configuration: this serving certificate, HTTP/1.1, and a request for a
    /// client certificate that is optional at the TLS layer (judged afterwards, see
    /// [`Identity::judge`]), as the apiserver asks for one.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, IdentityError> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()));
        let mut cfg = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_client_cert_verifier(Arc::new(AskForCertificate {
                inner: self.verifier.clone(),
            }))
            .with_single_cert(self.server_chain.clone(), key)
            .map_err(err)?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }

    /// Judge the certificates a client presented in its handshake against this CA.
    pub fn judge(&self, presented: Option<&[CertificateDer<'_>]>) -> ClientCert {
        match presented {
            None | Some([]) => ClientCert::Absent,
            Some([leaf, intermediates @ ..]) => {
                match self
                    .verifier
                    .verify_client_cert(leaf, intermediates, UnixTime::now())
                {
                    Ok(_) => ClientCert::Trusted,
                    Err(_) => ClientCert::Untrusted,
                }
            }
        }
    }
}

/// 32 random bytes as hex, from the crypto provider's generator.
fn random_token() -> Result<String, IdentityError> {
    let mut bytes = [0u8; 32];
    provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| err("no random numbers from the operating system"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Asks for a client certificate and checks the handshake signature (the client proves it
/// holds the key), but accepts any certificate chain at the TLS layer: the HTTP layer answers
/// an untrusted or missing one with a 401 Status, as the apiserver does (it requests client
/// certificates without requiring them and verifies them in its authenticator).
#[derive(Debug)]
struct AskForCertificate {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for AskForCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate")
    }

    #[test]
    fn its_own_client_certificate_is_trusted_and_another_sims_is_not() {
        let a = Identity::generate("a").expect("identity a");
        let b = Identity::generate("b").expect("identity b");
        let a_client = der(a
            .credentials(true)
            .client_cert_pem
            .as_deref()
            .expect("cert"));
        let b_client = der(b
            .credentials(true)
            .client_cert_pem
            .as_deref()
            .expect("cert"));
        assert_eq!(
            a.judge(Some(std::slice::from_ref(&a_client))),
            ClientCert::Trusted
        );
        assert_eq!(
            a.judge(Some(std::slice::from_ref(&b_client))),
            ClientCert::Untrusted
        );
        assert_eq!(a.judge(None), ClientCert::Absent);
        assert_ne!(a.token(), b.token());
        assert_eq!(a.token().len(), 64);
        assert!(a.server_config().is_ok());
    }

    #[test]
    fn plain_http_credentials_are_the_token_alone() {
        let id = Identity::generate("a").expect("identity");
        let c = id.credentials(false);
        assert_eq!(c.token.as_deref(), Some(id.token()));
        assert!(c.ca_pem.is_none() && c.client_cert_pem.is_none());
    }
}

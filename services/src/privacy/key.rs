//! The master key: two keys are derived from it with HKDF-SHA256 (RFC
//! 5869), one that wraps every customer's key (AES-256-GCM, bound to the
//! customer) and one that keys the phone-number lookup (HMAC-SHA256), so
//! that no key serves two purposes. ticketd is given it (a file or the
//! environment, read by `main`); in development mode `main` makes one on
//! first start, in production a missing key is refused. It never touches
//! the database, so a dump alone reveals no personal data.
//!
//! Before the derived keys (stored rows made by an earlier version) the
//! master key itself wrapped and keyed lookups: such a wrapped key has no
//! `v2:` prefix and still unwraps; such a lookup is found by
//! [`MasterKey::legacy_lookup`] and re-keyed by the keyring when found.

use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// 32 secret bytes, and the keys derived from them.
#[derive(Clone)]
pub struct MasterKey {
    root: [u8; 32],
    wrapping: [u8; 32],
    lookup: [u8; 32],
}

/// HKDF `info` of each derived key.
const WRAPPING_INFO: &[u8] = b"ticketd/v2/customer-key-wrapping";
const LOOKUP_INFO: &[u8] = b"ticketd/v2/phone-lookup";
/// The prefix of a customer key wrapped by the derived wrapping key.
const WRAPPED_V2: &str = "v2:";

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the master key must be 64 hexadecimal digits (32 bytes)")]
    Malformed,
    #[error("cannot read the master key file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("cannot write a new master key to {path}: {reason}")]
    Unwritable { path: String, reason: String },
    #[error("production mode needs a master key (--master-key-file or TICKETD_MASTER_KEY); none was given")]
    MissingInProduction,
    #[error("a customer key does not open with this master key (a wrong master key?)")]
    WrongMasterKey,
    #[error("a sealed value does not open with its customer's key: it was altered")]
    Altered,
}

impl MasterKey {
    pub fn generate() -> Self {
        Self::from_root(Aes256Gcm::generate_key(OsRng).into())
    }

    /// The master key and the keys HKDF-SHA256 derives from it.
    fn from_root(root: [u8; 32]) -> Self {
        let hkdf = hkdf::Hkdf::<Sha256>::new(None, &root);
        let derive = |info: &[u8]| {
            let mut key = [0_u8; 32];
            hkdf.expand(info, &mut key)
                .expect("32 bytes is a valid HKDF-SHA256 length");
            key
        };
        Self {
            wrapping: derive(WRAPPING_INFO),
            lookup: derive(LOOKUP_INFO),
            root,
        }
    }

    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self::from_root)
            .map_err(|_| KeyError::Malformed)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.root)
    }

    /// Reads the key in `path`; when there is none and `create` (development
    /// mode), makes one and writes it there (mode 0600) first.
    pub fn from_file(path: &Path, create: bool) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = Self::generate();
                write_new(path, &key.to_hex()).map_err(|e| KeyError::Unwritable {
                    path: shown.clone(),
                    reason: e.to_string(),
                })?;
                // Another process may have made it first: theirs stands.
                Self::from_file(path, false)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(KeyError::MissingInProduction)
            }
            Err(e) => Err(KeyError::Unreadable {
                path: shown,
                reason: e.to_string(),
            }),
        }
    }

    fn cipher(key: &[u8; 32]) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
    }

    /// HMAC-SHA256 of `text` under the derived lookup key, hex: a lookup
    /// value that says nothing without the key.
    pub fn lookup(&self, text: &str) -> String {
        hmac_hex(&self.lookup, text)
    }

    /// The lookup value an earlier version stored (HMAC under the master
    /// key itself): only to find such a row and re-key it.
    pub fn legacy_lookup(&self, text: &str) -> String {
        hmac_hex(&self.root, text)
    }

    /// A customer key wrapped as an earlier version did (under the master
    /// key itself), for the tests of reading such rows.
    #[cfg(test)]
    pub(crate) fn legacy_wrap(&self, customer: &str, key: &CustomerKey) -> String {
        seal_with(&Self::cipher(&self.root), customer, &key.0)
    }

    /// A customer key wrapped under the derived wrapping key, bound to the
    /// customer's id.
    pub fn wrap(&self, customer: &str, key: &CustomerKey) -> String {
        let aad = format!("customer-key:{customer}");
        let sealed = seal_with(&Self::cipher(&self.wrapping), &aad, &key.0);
        format!("{WRAPPED_V2}{sealed}")
    }

    pub fn unwrap(&self, customer: &str, wrapped: &str) -> Result<CustomerKey, KeyError> {
        let bytes = match wrapped.strip_prefix(WRAPPED_V2) {
            Some(sealed) => {
                let aad = format!("customer-key:{customer}");
                open_with(&Self::cipher(&self.wrapping), &aad, sealed)
            }
            None => open_with(&Self::cipher(&self.root), customer, wrapped),
        }
        .ok_or(KeyError::WrongMasterKey)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(CustomerKey)
            .map_err(|_| KeyError::WrongMasterKey)
    }
}

fn hmac_hex(key: &[u8; 32], text: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::make_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => file.write_all(text.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// One customer's key: seals their personal fields.
#[derive(Clone)]
pub struct CustomerKey([u8; 32]);

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKey(…)")
    }
}

impl CustomerKey {
    pub fn generate() -> Self {
        CustomerKey(Aes256Gcm::generate_key(OsRng).into())
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }

    /// base64(nonce ‖ ciphertext ‖ tag) of `plain`, bound to `customer`.
    pub fn seal(&self, customer: &str, plain: &[u8]) -> String {
        seal_with(&self.cipher(), customer, plain)
    }

    pub fn open(&self, customer: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        open_with(&self.cipher(), customer, sealed).ok_or(KeyError::Altered)
    }
}

fn seal_with(cipher: &Aes256Gcm, aad: &str, plain: &[u8]) -> String {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .expect("AES-GCM seals any message of this size");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    B64.encode(out)
}

fn open_with(cipher: &Aes256Gcm, aad: &str, sealed: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(sealed).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, body) = bytes.split_at(12);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: aad.as_bytes(),
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_customer() {
        let key = CustomerKey::generate();
        let sealed = key.seal("c-1", b"\"Li Lei\"");
        assert_eq!(key.open("c-1", &sealed).expect("ok"), b"\"Li Lei\"");
        assert_eq!(key.open("c-2", &sealed), Err(KeyError::Altered));
        assert_eq!(
            CustomerKey::generate().open("c-1", &sealed),
            Err(KeyError::Altered)
        );
        assert!(!sealed.contains("Li Lei"));
    }

    #[test]
    fn wrapping_and_lookup_use_keys_derived_apart_and_old_rows_still_open() {
        let master = MasterKey::generate();
        assert_ne!(master.wrapping, master.lookup);
        assert_ne!(master.wrapping, master.root);
        assert_ne!(master.lookup("phone:1"), master.legacy_lookup("phone:1"));
        // The same master key derives the same keys (a restart).
        let again = MasterKey::from_hex(&master.to_hex()).expect("hex");
        assert_eq!(again.lookup("phone:1"), master.lookup("phone:1"));
        // A key an earlier version wrapped under the master key itself.
        let key = CustomerKey::generate();
        let old = seal_with(&MasterKey::cipher(&master.root), "c-1", &key.0);
        assert_eq!(master.unwrap("c-1", &old).expect("old row").0, key.0);
        let new = master.wrap("c-1", &key);
        assert!(new.starts_with(WRAPPED_V2));
        assert_eq!(master.unwrap("c-1", &new).expect("new row").0, key.0);
        assert_eq!(
            master.unwrap("c-2", &new).err(),
            Some(KeyError::WrongMasterKey)
        );
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_master_key() {
        let master = MasterKey::generate();
        let key = CustomerKey::generate();
        let wrapped = master.wrap("c-1", &key);
        let back = master.unwrap("c-1", &wrapped).expect("unwrap");
        assert_eq!(back.0, key.0);
        assert!(matches!(
            MasterKey::generate().unwrap("c-1", &wrapped),
            Err(KeyError::WrongMasterKey)
        ));
    }

    #[test]
    fn a_master_key_is_64_hex_digits() {
        let key = MasterKey::generate();
        assert_eq!(
            MasterKey::from_hex(&key.to_hex()).expect("ok").root,
            key.root
        );
        for bad in ["", "zz", &"ab".repeat(31)] {
            assert_eq!(
                MasterKey::from_hex(bad).expect_err("refused"),
                KeyError::Malformed
            );
        }
    }

    #[test]
    fn given_no_key_file_in_development_then_one_is_made_and_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys/master.key");
        let made = MasterKey::from_file(&path, true).expect("made");
        let again = MasterKey::from_file(&path, true).expect("read");
        assert_eq!(made.root, again.root);
    }

    #[test]
    fn given_no_key_file_in_production_then_it_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let e = MasterKey::from_file(&dir.path().join("master.key"), false).expect_err("refused");
        assert_eq!(e, KeyError::MissingInProduction);
    }

    #[test]
    fn the_lookup_depends_on_the_key() {
        let (a, b) = (MasterKey::generate(), MasterKey::generate());
        assert_eq!(a.lookup("13800138000"), a.lookup("13800138000"));
        assert_ne!(a.lookup("13800138000"), b.lookup("13800138000"));
    }
}

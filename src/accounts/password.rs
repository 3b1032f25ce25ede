//! Password hashing for the desk's accounts: argon2id (RustCrypto's
//! `argon2`, OWASP's recommended parameters, which are the crate's default)
//! stored as a PHC string, so the parameters travel with each hash and can
//! be raised later without invalidating the old ones.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use super::AccountError;

/// Shorter passwords are refused: a person chooses these, and eight is the
/// floor NIST and OWASP give for passwords with no other factor.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Longer ones are refused too, so that nobody can make the daemon hash a
/// megabyte per login attempt.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Verified in place of a real hash when the name is unknown, so that an
/// unknown name costs what a wrong password costs and the timing does not
/// tell which names exist. Made with `Argon2::default()`; a test checks it
/// still has the parameters new hashes get.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$y/355q509cPRWT4PkO3QOw$5S2j6iSecF9mtlPp7exfi7h4ezfa4+7lVlWnTo0xDfs";

/// Refuses passwords outside the length limits; says which limit.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooLong {
            max: MAX_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// An `$argon2id$…` PHC string with a fresh random salt.
pub(super) fn hash(password: &str) -> Result<String, AccountError> {
    check_password(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches `stored`; `None` for an unknown user, checked
/// against the dummy hash so that it takes as long.
pub(super) fn verify(password: &str, stored: Option<&str>) -> bool {
    // An over-long password cannot match any stored hash, and hashing it
    // would be the cost the limit is there to avoid.
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    let ok = Argon2::default().verify_password(password.as_bytes(), stored.unwrap_or(DUMMY_HASH));
    match ok {
        Ok(()) => stored.is_some(),
        Err(argon2::password_hash::Error::PasswordInvalid) => false,
        Err(e) => {
            // A hash this code did not write (edited by hand, truncated):
            // the account cannot log in until its password is set again.
            tracing::error!(error = %e, "a stored password hash is unreadable; reset it with `kuaibao user passwd`");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_dummy_hash_costs_what_a_real_hash_costs() {
        let real = hash("correct horse").expect("hash");
        let params = |h: &str| h.rsplitn(3, '$').nth(2).map(str::to_string);
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(!verify("anything at all", None));
    }

    #[test]
    fn accounts_hashes_are_salted_argon2id() {
        let a = hash("correct horse").expect("hash");
        let b = hash("correct horse").expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse", Some(&a)));
        assert!(!verify("correct hors", Some(&a)));
        assert!(!verify("correct horse", Some("not a hash")));
    }

    #[test]
    fn accounts_password_length_limits() {
        assert!(matches!(
            check_password("1234567"),
            Err(AccountError::PasswordTooShort { min: 8 })
        ));
        // Characters, not bytes: four Chinese characters are four.
        assert!(check_password("快报快报").is_err());
        assert!(check_password("快报快报快报快报").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }
}

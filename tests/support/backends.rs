//! One store test, both backends: a test written once against the
//! backend traits (`ItemStore`, `StoryStore`, …) runs on an in-memory
//! SQLite store and on a fresh PostgreSQL database, so the two are checked
//! equivalent by the same assertions.
//!
//! ```ignore
//! fn a_saved_item_is_found_again<S: ItemStore + ?Sized>(store: &mut S) { … }
//! on_both_backends!(a_saved_item_is_found_again);
//! ```
//!
//! The PostgreSQL half skips (and passes) without PostgreSQL installed,
//! except under `CI` (`support::pg_server::database`).

use kuaibao::store::SqliteStore;
use kuaibao::store::postgres::PgStore;

use super::pg_server::{TestDb, database};

/// A private SQLite store, migrated.
pub fn sqlite() -> SqliteStore {
    SqliteStore::open_in_memory().expect("an in-memory SQLite store")
}

/// A PostgreSQL store on a database of its own, migrated; `None` when the
/// test skips. Keep the `TestDb` alive while the store is used.
pub fn postgres(test: &str) -> Option<(TestDb, PgStore)> {
    let db = database(test)?;
    let store = PgStore::connect(&db.url).expect("connect and migrate");
    Some((db, store))
}

/// `on_both_backends!(suite_fn)` defines `mod suite_fn { fn sqlite(); fn
/// postgres(); }`, each calling `suite_fn(&mut store)` on that backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($suite:ident),+ $(,)?) => {$(
        mod $suite {
            #[test]
            fn sqlite() {
                let mut store = $crate::support::backends::sqlite();
                super::$suite(&mut store);
            }

            #[test]
            fn postgres() {
                let Some((_db, mut store)) =
                    $crate::support::backends::postgres(concat!(module_path!(), "::postgres"))
                else {
                    return;
                };
                super::$suite(&mut store);
            }
        }
    )+};
}

//! What the PostgreSQL tests share: a real server started for the test
//! binary (`pg_server`), and one test run on both backends (`backends`).

#[macro_use]
pub mod backends;
pub mod pg_server;

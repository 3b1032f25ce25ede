//! What the PostgreSQL tests share: a real server started for the test
//! binary (`pg_server`).

pub mod pg_server;

//! What the PostgreSQL tests share: a real server started for the test
//! binary (`pg_server`), and one test run on both backends (`backends`).

#![allow(dead_code)] // each test binary uses part of it

pub mod backends;
pub mod pg_server;

//! The CRM as a library: the `crm` binary and the integration tests both build on it.
// The OpenAPI document is one large `json!` literal (web::api::openapi).
#![recursion_limit = "256"]

pub mod app;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod events;
pub mod i18n;
pub mod repos;
pub mod services;
pub mod transport;
pub mod web;

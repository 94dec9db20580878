//! Integration tests: the application as staff, admins and integrators meet it, over a real
//! PostgreSQL. One binary, one module per area; `helpers` holds `TestApp`.

mod architecture;
mod audit;
mod bad_input;
mod browser;
pub(crate) mod channels;
mod chat_pages;
mod chat_work;
pub(crate) mod chats;
mod cli;
mod client_imports;
mod client_merge;
mod client_search;
mod clients_api;
mod clients_pages;
mod companies;
mod csrf;
mod currency_rates;
mod deals;
mod delivery;
mod events;
mod fakes;
mod helpers;
mod i18n;
mod inbox_search;
mod limits;
mod live;
mod openapi;
mod ops;
mod permissions;
mod pipelines;
mod serve;
mod settings;
mod sign_in;
mod tenancy;
mod tokens;
mod users;

//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds them at compile time,
//! and Cargo would not otherwise know that it has to look again.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

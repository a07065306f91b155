//! The projection tests embed `migrations/sqlite` with `sqlx::migrate!`,
//! which reads the directory at compile time: rebuild when a migration is
//! added or changed, or the tests would run on the previous set.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}

//! `spawn_app()`: a fresh session for each test, in its own temporary
//! directory, with its own database.
//!
//! The database is SQLite by default. With `CHOIXBOT_TEST_DATABASE=postgres`
//! each test gets a new PostgreSQL database on the server named by
//! `CHOIXBOT_TEST_POSTGRES_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; `scripts/test.sh` starts a
//! private server and sets it). If PostgreSQL was asked for and cannot be
//! reached, the test fails and says why: it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Output;

use choixbot::store::Store;
use sqlx::Connection;

/// One test's session.
pub struct TestApp {
    /// The temporary directory holding the config, the files and (SQLite) the database.
    pub dir: tempfile::TempDir,
    /// The database URL every command of this test uses.
    pub database_url: String,
    /// `choixbot.toml` in `dir`.
    pub config: PathBuf,
}

/// Which database the suite runs against.
pub fn test_database() -> String {
    std::env::var("CHOIXBOT_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into())
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let database_url = match test_database().as_str() {
        "sqlite" => format!("sqlite://{}", dir.path().join("choixbot.db").display()),
        "postgres" => fresh_postgres_database().await,
        other => panic!("CHOIXBOT_TEST_DATABASE={other:?}: expected sqlite or postgres"),
    };
    let config = dir.path().join("choixbot.toml");
    TestApp { dir, database_url, config }
}

async fn fresh_postgres_database() -> String {
    let admin_url = std::env::var("CHOIXBOT_TEST_POSTGRES_URL").expect(
        "CHOIXBOT_TEST_DATABASE=postgres needs CHOIXBOT_TEST_POSTGRES_URL (scripts/test.sh starts a server and sets it)",
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to the test PostgreSQL at {admin_url}: {error}"));
    let name = format!("choixbot_test_{}", uuid_like());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
    let (base, _) = admin_url.rsplit_once('/').expect("admin URL ends with /DATABASE");
    format!("{base}/{name}")
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16).map(|_| char::from(b'a' + rng.gen_range(0..26))).collect()
}

impl TestApp {
    /// Writes a file in the test directory and returns its path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("cannot write a test file");
        path
    }

    /// Runs the `choixbot` binary with this app's config and database.
    pub fn choixbot(&self, args: &[&str]) -> Output {
        assert_cmd::Command::cargo_bin("choixbot")
            .expect("the choixbot binary is built")
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .arg("--config")
            .arg(&self.config)
            .arg("--database-url")
            .arg(&self.database_url)
            .args(args)
            .output()
            .expect("cannot run choixbot")
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.choixbot(args);
        assert!(output.status.success(), "choixbot {args:?} failed:\n{}", describe(&output));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Imports a file of the repository's `samples/` directory.
    pub fn import_sample(&self, kind: &str, name: &str) {
        let path = samples_dir().join(name);
        self.ok(&["import", kind, path.to_str().unwrap()]);
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.database_url).await.expect("cannot open the test database")
    }
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit code {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

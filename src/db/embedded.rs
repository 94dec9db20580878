//! The private PostgreSQL cluster used when `DATABASE_URL` is unset: created under
//! `CRM_DATA_DIR` on first use from the machine's PostgreSQL install, listening only on a Unix
//! socket inside that directory, and stopped by whoever started it.
//!
//! Several `crm` processes may share one cluster. `data_dir/postgres.owner` holds the pid of the
//! process that stops it: `crm serve` always takes that role; a command-line tool takes it only
//! when no live process holds it, so a `crm user create` run beside a server never stops the
//! server's database.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sqlx::postgres::PgConnectOptions;

/// The superuser `initdb` creates; it can log in only through the private socket.
const SUPERUSER: &str = "crm";
const PORT: u16 = 5432;
/// sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server install was found (looked for initdb, pg_ctl and postgres on PATH, \
         in `pg_config --bindir` and under /usr/lib/postgresql/*/bin). Install it \
         (Debian/Ubuntu: `apt-get install postgresql`) or set DATABASE_URL to an existing server."
    )]
    NotInstalled,
    #[error(
        "running as root, the embedded PostgreSQL runs as the `postgres` system user, and there is \
         none (Debian's postgresql package creates it). Run as an ordinary user, or set DATABASE_URL."
    )]
    NoPostgresUser,
    #[error(
        "the `postgres` system user cannot reach the PostgreSQL cluster under {0} (a parent directory is closed to other users). \
         Set CRM_DATA_DIR to a directory it can reach, run as an ordinary user, or set DATABASE_URL."
    )]
    Unreachable(PathBuf),
    #[error(
        "the cluster in {dir} was made by PostgreSQL {cluster}, but the install found is {installed}; \
         install PostgreSQL {cluster} or upgrade the cluster with pg_upgrade"
    )]
    VersionMismatch { dir: PathBuf, cluster: String, installed: String },
    #[error("{what} failed ({status}): {output}")]
    Command { what: &'static str, status: String, output: String },
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |e| EmbeddedError::Io(context, e)
}

/// Settings that differ between the application and the test harness.
#[derive(Debug, Clone, Copy)]
pub struct ClusterOptions {
    /// Off only for throw-away test clusters: fast, and unsafe on a crash.
    pub durable: bool,
    /// `crm serve` takes charge of stopping the cluster even if a tool started it.
    pub long_lived: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self { durable: true, long_lived: true }
    }
}

#[derive(Debug, Clone, Copy)]
struct OsUser {
    uid: u32,
    gid: u32,
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    owner_file: PathBuf,
    run_as: Option<OsUser>,
}

impl EmbeddedPostgres {
    /// Creates the cluster under `data_dir` if it is not there yet, starts it unless it runs
    /// already, and returns a handle to connect to it.
    pub fn start(data_dir: &Path, options: ClusterOptions) -> Result<Self, EmbeddedError> {
        let data_dir = std::path::absolute(data_dir).map_err(io_err("resolving CRM_DATA_DIR"))?;
        fs::create_dir_all(&data_dir).map_err(io_err(format!("creating {}", data_dir.display())))?;
        let bin_dir = find_bin_dir()?;
        let run_as = if is_root() { Some(postgres_os_user()?) } else { None };
        let cluster_dir = match run_as {
            Some(user) => reachable_cluster_dir(&data_dir, user)?,
            None => data_dir.join("postgres"),
        };
        let socket_dir = socket_dir_for(&cluster_dir);
        let pg = Self { bin_dir, owner_file: data_dir.join("postgres.owner"), cluster_dir, socket_dir, run_as };

        if !pg.cluster_dir.join("PG_VERSION").exists() {
            pg.init()?;
        }
        pg.check_version()?;
        pg.write_settings(options)?;

        if pg.is_running() {
            tracing::info!(dir = %pg.cluster_dir.display(), "embedded PostgreSQL is already running; sharing it");
            if options.long_lived || !owner_alive(&pg.owner_file) {
                pg.take_ownership()?;
            }
        } else {
            pg.remove_stale_pid_file()?;
            pg.pg_ctl_start()?;
            pg.take_ownership()?;
            tracing::info!(dir = %pg.cluster_dir.display(), "embedded PostgreSQL started");
        }
        Ok(pg)
    }

    /// Where the cluster listens: a Unix socket, never a TCP port.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.socket_dir).port(PORT).username(SUPERUSER).database(database)
    }

    /// Stops the cluster if this process is the one in charge of it; otherwise leaves it running
    /// for its owner.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        let owner = fs::read_to_string(&self.owner_file).unwrap_or_default();
        if owner.trim() != std::process::id().to_string() {
            return Ok(());
        }
        self.run(
            "pg_ctl stop",
            self.command("pg_ctl").args(["stop", "-w", "-t", "60", "-m", "fast", "-s", "-D"]).arg(&self.cluster_dir),
        )?;
        let _ = fs::remove_file(&self.owner_file);
        tracing::info!(dir = %self.cluster_dir.display(), "embedded PostgreSQL stopped");
        Ok(())
    }

    fn init(&self) -> Result<(), EmbeddedError> {
        tracing::info!(dir = %self.cluster_dir.display(), "creating the embedded PostgreSQL cluster");
        fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&self.cluster_dir)
            .map_err(io_err(format!("creating {}", self.cluster_dir.display())))?;
        self.give_to_postgres(&self.cluster_dir)?;
        self.run(
            "initdb",
            self.command("initdb").arg("-D").arg(&self.cluster_dir).args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ]),
        )?;
        let conf = self.cluster_dir.join("postgresql.conf");
        let mut file =
            fs::OpenOptions::new().append(true).open(&conf).map_err(io_err(format!("opening {}", conf.display())))?;
        writeln!(file, "\n# Settings written by crm at each start.\ninclude_if_exists = 'crm.conf'")
            .map_err(io_err(format!("writing {}", conf.display())))?;
        Ok(())
    }

    fn check_version(&self) -> Result<(), EmbeddedError> {
        let cluster = fs::read_to_string(self.cluster_dir.join("PG_VERSION"))
            .map_err(io_err("reading PG_VERSION"))?
            .trim()
            .to_owned();
        let output =
            self.command("postgres").arg("--version").output().map_err(io_err("running postgres --version"))?;
        let installed = String::from_utf8_lossy(&output.stdout).to_string();
        // "postgres (PostgreSQL) 15.18 (Debian …)" → "15"
        let installed_major =
            installed.split_whitespace().nth(2).and_then(|v| v.split('.').next()).unwrap_or("").to_owned();
        if installed_major != cluster {
            return Err(EmbeddedError::VersionMismatch {
                dir: self.cluster_dir.clone(),
                cluster,
                installed: installed.trim().to_owned(),
            });
        }
        Ok(())
    }

    fn write_settings(&self, options: ClusterOptions) -> Result<(), EmbeddedError> {
        if self.socket_dir != self.cluster_dir {
            fs::DirBuilder::new()
                .mode(0o700)
                .recursive(true)
                .create(&self.socket_dir)
                .map_err(io_err(format!("creating {}", self.socket_dir.display())))?;
            self.give_to_postgres(&self.socket_dir)?;
        }
        let quoted = self.socket_dir.display().to_string().replace('\'', "''");
        let mut settings = format!(
            "listen_addresses = ''\nport = {PORT}\nunix_socket_directories = '{quoted}'\n\
             unix_socket_permissions = 0700\nmax_connections = 200\n\
             # PostgreSQL's 128MB default is smaller than a million clients with their indexes.\n\
             shared_buffers = 512MB\n"
        );
        if !options.durable {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.cluster_dir.join("crm.conf");
        fs::write(&path, settings).map_err(io_err(format!("writing {}", path.display())))?;
        self.give_to_postgres(&path)
    }

    /// The server runs when postmaster.pid names a live postgres process.
    fn is_running(&self) -> bool {
        postmaster_pid(&self.cluster_dir)
            .is_some_and(|pid| process_name(pid).is_some_and(|n| n.starts_with("postgres")))
    }

    /// A crash or a reboot leaves postmaster.pid behind; if its pid now belongs to some other
    /// process, PostgreSQL would refuse to start, so the file goes.
    fn remove_stale_pid_file(&self) -> Result<(), EmbeddedError> {
        let pid_file = self.cluster_dir.join("postmaster.pid");
        if pid_file.exists() {
            tracing::warn!(file = %pid_file.display(), "removing a stale postmaster.pid left by a crash");
            fs::remove_file(&pid_file).map_err(io_err(format!("removing {}", pid_file.display())))?;
        }
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), EmbeddedError> {
        let log = self.cluster_dir.join("server.log");
        self.run(
            "pg_ctl start",
            self.command("pg_ctl")
                .args(["start", "-w", "-t", "120", "-s", "-D"])
                .arg(&self.cluster_dir)
                .arg("-l")
                .arg(&log),
        )
        .map_err(|e| match e {
            EmbeddedError::Command { what, status, output } => {
                EmbeddedError::Command { what, status, output: format!("{output} (server log: {})", log.display()) }
            }
            other => other,
        })
    }

    fn take_ownership(&self) -> Result<(), EmbeddedError> {
        fs::write(&self.owner_file, std::process::id().to_string())
            .map_err(io_err(format!("writing {}", self.owner_file.display())))
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir("/").stdin(Stdio::null()).env_remove("PGDATA");
        if let Some(user) = self.run_as {
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd
    }

    fn run(&self, what: &'static str, cmd: &mut Command) -> Result<(), EmbeddedError> {
        let output =
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).output().map_err(io_err(format!("running {what}")))?;
        if output.status.success() {
            return Ok(());
        }
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        Err(EmbeddedError::Command { what, status: output.status.to_string(), output: text.trim().to_owned() })
    }

    fn give_to_postgres(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let Some(user) = self.run_as {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                .map_err(io_err(format!("handing {} to the postgres user", path.display())))?;
        }
        Ok(())
    }
}

/// Finds a directory holding initdb, pg_ctl and postgres: PATH first, then pg_config, then
/// Debian's versioned directories (newest first).
fn find_bin_dir() -> Result<PathBuf, EmbeddedError> {
    let pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    search_bin_dir(std::env::var_os("PATH"), pg_config, Path::new("/usr/lib/postgresql"))
}

fn search_bin_dir(
    path_var: Option<std::ffi::OsString>,
    pg_config_bindir: Option<PathBuf>,
    versioned_root: &Path,
) -> Result<PathBuf, EmbeddedError> {
    let complete = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|p| dir.join(p).is_file());
    let mut candidates: Vec<PathBuf> = Vec::new();
    for dir in path_var.iter().flat_map(std::env::split_paths) {
        // A PATH entry may hold symlinks into the real directory; follow pg_ctl's.
        if let Ok(real) = fs::canonicalize(dir.join("pg_ctl"))
            && let Some(parent) = real.parent()
        {
            candidates.push(parent.to_path_buf());
        }
    }
    candidates.extend(pg_config_bindir);
    if let Ok(entries) = fs::read_dir(versioned_root) {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        candidates.extend(versions.into_iter().map(|(_, p)| p));
    }
    candidates.into_iter().find(|d| complete(d)).ok_or(EmbeddedError::NotInstalled)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn postgres_os_user() -> Result<OsUser, EmbeddedError> {
    // SAFETY: getpwnam is given a NUL-terminated string; the returned record is read at once,
    // before any other call could overwrite it, and this runs before worker threads look up users.
    unsafe {
        let pw = libc::getpwnam(c"postgres".as_ptr());
        if pw.is_null() {
            return Err(EmbeddedError::NoPostgresUser);
        }
        Ok(OsUser { uid: (*pw).pw_uid, gid: (*pw).pw_gid })
    }
}

/// Where the cluster of `data_dir` lives when run as root: the cluster belongs to `postgres`,
/// which must be able to walk down to it. Normally `data_dir/postgres`; when a parent is closed
/// to other users (a checkout under /root, say), a directory under /var/lib/crm-postgres named
/// after `data_dir`, linked from `data_dir/postgres` so the data dir still leads to it.
fn reachable_cluster_dir(data_dir: &Path, user: OsUser) -> Result<PathBuf, EmbeddedError> {
    let link = data_dir.join("postgres");
    if fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
        return fs::canonicalize(&link).map_err(io_err(format!("following {}", link.display())));
    }
    if reachable_by(data_dir, user) {
        return Ok(link);
    }
    if link.exists() {
        // A cluster made while the path was open; moving it is the operator's call.
        return Err(EmbeddedError::Unreachable(data_dir.to_path_buf()));
    }
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    let home = Path::new("/var/lib/crm-postgres");
    let real = home.join(format!("{:016x}", hasher.finish()));
    fs::DirBuilder::new()
        .mode(0o755)
        .recursive(true)
        .create(home)
        .map_err(io_err(format!("creating {}", home.display())))?;
    if !reachable_by(home, user) {
        return Err(EmbeddedError::Unreachable(data_dir.to_path_buf()));
    }
    std::os::unix::fs::symlink(&real, &link).map_err(io_err(format!("linking {}", link.display())))?;
    tracing::warn!(
        data_dir = %data_dir.display(),
        cluster = %real.display(),
        "the postgres user cannot reach CRM_DATA_DIR; the cluster lives where it can, linked from the data dir"
    );
    Ok(real)
}

fn reachable_by(dir: &Path, user: OsUser) -> bool {
    dir.ancestors().all(|ancestor| {
        fs::metadata(ancestor).is_ok_and(|meta| {
            let mode = meta.permissions().mode();
            mode & 0o001 != 0
                || (meta.gid() == user.gid && mode & 0o010 != 0)
                || (meta.uid() == user.uid && mode & 0o100 != 0)
        })
    })
}

/// The socket lives in the cluster directory, unless that path is too long for a Unix socket;
/// then in a private directory under the system's temporary directory, named after the cluster.
fn socket_dir_for(cluster_dir: &Path) -> PathBuf {
    let socket_file_len = cluster_dir.as_os_str().len() + "/.s.PGSQL.5432.lock".len();
    if socket_file_len <= MAX_SOCKET_PATH {
        return cluster_dir.to_path_buf();
    }
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    cluster_dir.hash(&mut hasher);
    std::env::temp_dir().join(format!("crm-pg-{:016x}", hasher.finish()))
}

fn postmaster_pid(cluster_dir: &Path) -> Option<i32> {
    fs::read_to_string(cluster_dir.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
}

fn process_name(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|s| s.trim().to_owned())
}

fn owner_alive(owner_file: &Path) -> bool {
    let Some(pid) = fs::read_to_string(owner_file).ok().and_then(|s| s.trim().parse::<i32>().ok()) else {
        return false;
    };
    pid as u32 != std::process::id() && process_name(pid).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crm-embedded-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn no_install_anywhere_says_what_to_install_or_to_set_database_url() {
        let empty = scratch("empty");
        let err = search_bin_dir(Some(empty.clone().into_os_string()), None, &empty).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, EmbeddedError::NotInstalled));
        assert!(message.contains("apt-get install postgresql") && message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn the_newest_versioned_install_is_found_when_path_has_none() {
        let root = scratch("versions");
        for version in ["13", "16"] {
            let bin = root.join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            for tool in ["initdb", "pg_ctl", "postgres"] {
                fs::write(bin.join(tool), "").unwrap();
            }
        }
        assert_eq!(search_bin_dir(None, None, &root).unwrap(), root.join("16/bin"));
    }

    #[test]
    fn a_short_cluster_path_keeps_its_socket_inside_it() {
        let dir = Path::new("/srv/crm/var/postgres");
        assert_eq!(socket_dir_for(dir), dir);
    }

    #[test]
    fn a_long_cluster_path_moves_its_socket_to_a_stable_temporary_directory() {
        let long = PathBuf::from(format!("/{}/postgres", "x".repeat(120)));
        let first = socket_dir_for(&long);
        assert!(first.starts_with(std::env::temp_dir()));
        assert_eq!(first, socket_dir_for(&long));
    }
}

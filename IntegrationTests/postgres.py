"""A throw-away PostgreSQL server for the tests: Debian's `postgresql` binaries
(/usr/lib/postgresql/N/bin), `initdb` + `postgres` in a temporary directory, on
127.0.0.1 and a free port, trust authentication on loopback only.

PostgreSQL refuses to run as root (CI runs as root): then the cluster directory is
owned by the `postgres` system user and the binaries run through `runuser -u postgres`.
Without the binaries the tests that need them skip, or fail when CI=true.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import servers

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def bin_dir():
    """The newest /usr/lib/postgresql/N/bin with initdb and postgres, or None."""
    override = os.environ.get("BULWARK_PG_BIN")
    if override:
        return override
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "postgres"), os.X_OK):
            try:
                found.append((int(d.split("/")[-2]), d))
            except ValueError:
                pass
    return max(found)[1] if found else None


def missing_reason():
    if bin_dir() is None:
        return ("PostgreSQL server binaries not found (/usr/lib/postgresql/N/bin/initdb): "
                "run .ci/run, or apt-get install postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without runuser(1) to run PostgreSQL as `postgres`"
    return None


class Postgres:
    """One PostgreSQL cluster; `url(db)` is what `api.database` takes."""

    def __init__(self, tag="postgres"):
        self.bin = bin_dir()
        self.tag = tag
        self.dir = tempfile.mkdtemp(prefix="bulwark-pg-")
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = servers.pick_port(0, set())
        self.proc = None
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)

    def _cmd(self, argv):
        return (["runuser", "-u", "postgres", "--"] + argv) if self.as_root else argv

    def start(self, timeout=60):
        subprocess.run(self._cmd([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", self.user,
                                  "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self._launch(timeout)

    def restart(self, timeout=60):
        """Fast shutdown and start again on the same port and data (clients are cut off)."""
        self._shutdown()
        return self._launch(timeout)

    def pause(self):
        """Fast shutdown, keeping the data: `resume` starts it again on the same port."""
        self._shutdown()

    def resume(self, timeout=60):
        return self._launch(timeout)

    def _launch(self, timeout):
        log = open(self.logfile, "ab")
        # Loopback only; no Unix socket in /var/run (the temp dir instead); fsync on, as in
        # production: the crash tests rely on durable commits.
        argv = [os.path.join(self.bin, "postgres"), "-D", self.data, "-h", "127.0.0.1", "-p", str(self.port),
                "-k", self.dir, "-c", "max_connections=200", "-c", "shared_buffers=32MB",
                "-c", "log_min_messages=warning"]
        self.proc = subprocess.Popen(self._cmd(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        servers._record(self.tag, self.proc.pid, "postgres")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited during start-up:\n{self.log_tail()}")
            try:
                self.psql("SELECT 1")
                return self
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        raise RuntimeError(f"postgres not ready on port {self.port}:\n{self.log_tail()}")

    def psql(self, sql, db="postgres"):
        """Runs `sql` with psql; returns its unaligned output."""
        p = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise subprocess.CalledProcessError(p.returncode, "psql", p.stdout, p.stderr)
        return p.stdout.strip()

    def create_database(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, db):
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{db}"

    def log_tail(self, n=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        self._shutdown()
        servers._unrecord(self.tag)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _shutdown(self):
        if self.proc is not None and self.proc.poll() is None:
            # SIGINT: fast shutdown. The process runs as `postgres` under runuser: signal
            # its process group (our own session, started above).
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.proc = None

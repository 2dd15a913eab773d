"""One validated settings object for the whole application (PHARMAQMS_ prefix)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHARMAQMS_", extra="ignore")

    database_url: str = "sqlite:///var/pharmaqms.db"
    # A read-only replica (PostgreSQL streaming replica) for the heavy reads: reports, exports
    # and signal detection (kernel/db.py ``read_database``). Unset: they read the primary.
    database_replica_url: str | None = None
    # Months ahead the daily job (and ``pharmaqms db partitions ensure``) keeps partitions for
    # (PostgreSQL; kernel/partitions.py).
    db_partitions_months_ahead: int = Field(default=3, ge=0, le=120)
    # PostgreSQL connection pool of each process (SQLAlchemy's QueuePool). Every API process,
    # worker and ingest worker holds up to pool_size + max_overflow connections: their sum over
    # all processes must stay below the server's max_connections (docs/deploy.md).
    db_pool_size: int = Field(default=5, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    # How long a request waits for a free connection before it fails.
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Connections older than this are replaced (a proxy or firewall that drops idle ones).
    db_pool_recycle_seconds: int = Field(default=1800, ge=-1)
    # A database that does not answer fails the request (and /readyz) after this long.
    db_connect_timeout_seconds: int = Field(default=10, ge=1, le=300)
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    # Argon2 defaults are the library's production values (~0.5 s a hash); tests lower them.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    password_min_length: int = 12
    password_max_age_days: int = 90
    password_history: int = 5
    # zxcvbn's estimate, 0 (too guessable) to 4; 3 means about 10^8 guesses or more.
    password_min_strength: int = Field(default=3, ge=0, le=4)
    lockout_threshold: int = 5
    # A lockout lasts this long, doubling with each further lockout before the next successful
    # login, up to the cap; an administrator can unlock at any time.
    lockout_minutes: int = Field(default=15, ge=1)
    lockout_max_minutes: int = Field(default=24 * 60, ge=1)
    # Part 11 expects an idle session to stop being usable; 30 minutes is a common SOP value.
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # Cookies are Secure on HTTPS requests anyway; this makes them Secure always.
    cookie_secure: bool = False
    # Behind a reverse proxy that terminates TLS: believe its X-Forwarded-Proto (and let the
    # server take the client address from X-Forwarded-For). Only when the proxy is the sole
    # way in: otherwise anyone can claim HTTPS.
    trust_proxy_headers: bool = False
    # PHARMAQMS_DEMO=1: a demonstration instance, where the demo accounts keep their published
    # password (elsewhere they must change it at first login).
    demo: bool = False
    site_name: str = "pharmaqms"
    # The IANA time zone times are shown and typed in for whoever has not chosen their own
    # (each person can, on their account page). Stored times stay UTC whatever this says.
    site_time_zone: str = "UTC"
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # A raw data file attached to an R&D experiment entry (kept byte for byte, encrypted).
    rnd_max_file_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    var_dir: Path = Path("var")
    # The secrets the database does not hold (kernel/keys.py); None: beside the SQLite file.
    key_file: Path | None = None
    # The ICH E2B(R3) schema package (its multicacheschemas/ and coreschemas/ folders). Not
    # shipped: it is the user's copy of the ICH files. Unset, E2B exports get every check the
    # package can make without it.
    e2b_xsd_dir: Path | None = None
    # Days from the detection of a pharmacovigilance signal to its validation (EU GVP Module
    # IX: validation within 30 days of detection is the usual practice).
    pv_signal_validation_days: int = Field(default=30, ge=1, le=365)
    # E-mail notifications (kernel/notifications). No host: notifications stay in-app only.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # "starttls" upgrades a plain connection (port 587), "ssl" is TLS from the first byte
    # (port 465), "none" only for a relay on the same machine or network.
    smtp_tls: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str | None = None
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # The address people reach this site at: every e-mail links back to its record there.
    base_url: str = "http://127.0.0.1:8000"
    # A task due within this many hours gets one "due soon" e-mail (not when it was opened
    # that close to its due date: the new-task e-mail said so already).
    notify_due_soon_hours: int = Field(default=48, ge=1, le=24 * 60)
    # A failed e-mail is tried again after attempts × this many minutes, up to the maximum;
    # then it is marked failed for an administrator to retry from the outbox page.
    notify_retry_minutes: int = Field(default=5, ge=0, le=24 * 60)
    notify_max_attempts: int = Field(default=8, ge=1, le=100)
    # The hour (each person's own time zone) after which their daily digest goes out from the
    # server's background loop.
    notify_digest_hour: int = Field(default=6, ge=0, le=23)
    # 0: ``pharmaqms serve`` on SQLite runs no job runner of its own (then ``pharmaqms jobs
    # run-daily`` and ``pharmaqms notify run`` from cron do the work); any other value: it runs
    # one, whose sweeps come every ``jobs_sweep_minutes``.
    notify_interval_seconds: int = Field(default=300, ge=0)
    # The job runner (kernel/jobs). The daily jobs run at this hour (UTC); the sweeps (due
    # tasks, e-mail outbox, alarm escalations, EPCIS retries) every this many minutes.
    jobs_daily_hour: int = Field(default=2, ge=0, le=23)
    jobs_sweep_minutes: int = Field(default=5, ge=1, le=59)
    # A failed job is tried again after base × 2^(attempts so far) seconds, up to the maximum
    # number of attempts; then it is shown as failed on /admin/jobs for a person to retry.
    jobs_max_attempts: int = Field(default=5, ge=1, le=50)
    jobs_retry_seconds: float = Field(default=30.0, ge=0, le=24 * 3600)
    # A worker beats every heartbeat seconds; one silent for stalled seconds is taken as dead
    # and its running jobs are queued again for another worker (at-least-once).
    jobs_heartbeat_seconds: float = Field(default=10.0, gt=0, le=600)
    jobs_stalled_seconds: float = Field(default=60.0, gt=0, le=24 * 3600)
    # Finished jobs older than this are removed from the queue (failures stay until retried).
    jobs_keep_days: int = Field(default=14, ge=1, le=3650)
    # Days after the end of a year by which its annual product quality review is due to be
    # effective (EU GMP Part I 1.10 asks for it "annually"; companies set the grace in an SOP).
    apqr_grace_days: int = Field(default=90, ge=0, le=365)
    # An EPCIS receiving/shipping event and a WMS/TMS movement of the same lot, place and
    # direction whose times lie within this many minutes are one physical movement, counted once
    # (platform/inventory/matching.py); one source's movement still alone after it is a finding.
    inventory_match_window_minutes: int = Field(default=240, ge=0, le=7 * 24 * 60)

    @model_validator(mode="after")
    def _argon2_memory_fits(self) -> Settings:
        # argon2 needs at least 8 KiB per lane; say so at start-up, not at the first login.
        if self.argon2_memory_cost < 8 * self.argon2_parallelism:
            raise ValueError(
                "PHARMAQMS_ARGON2_MEMORY_COST must be at least 8 × PHARMAQMS_ARGON2_PARALLELISM"
            )
        return self

    @model_validator(mode="after")
    def _site_time_zone_known(self) -> Settings:
        from pharmaqms.kernel.timezones import is_zone_name

        self.site_time_zone = self.site_time_zone.strip()
        if not is_zone_name(self.site_time_zone):
            raise ValueError(
                f"PHARMAQMS_SITE_TIME_ZONE {self.site_time_zone!r} is not an IANA time zone "
                "name (such as Europe/Berlin or UTC)"
            )
        return self

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        if self.smtp_host and not self.smtp_sender:
            raise ValueError("PHARMAQMS_SMTP_SENDER is needed when PHARMAQMS_SMTP_HOST is set")
        if self.smtp_sender and not _ADDRESS.fullmatch(self.smtp_sender):
            raise ValueError(f"PHARMAQMS_SMTP_SENDER is not an e-mail address: {self.smtp_sender}")
        if (self.smtp_user is None) != (self.smtp_password is None):
            raise ValueError("PHARMAQMS_SMTP_USER and PHARMAQMS_SMTP_PASSWORD go together")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("PHARMAQMS_BASE_URL starts with http:// or https://")
        self.base_url = self.base_url.rstrip("/")
        return self


# An address a person can be written to: one @, a dot in the domain, no spaces or line breaks
# (a line break in a header would let a value add headers of its own).
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def is_email_address(value: str) -> bool:
    return len(value) <= 200 and _ADDRESS.fullmatch(value) is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()

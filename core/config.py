"""Settings read from environment variables, with defaults that run on a developer's machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(var_dir: Path) -> str:
    """Generate the secret key once and keep it in var/ so local restarts keep sessions valid."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def database_url(url: str) -> str:
    """Use psycopg 3 whatever the URL's scheme says (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass
class Config:
    """Every setting, its environment variable of the same name, and its local default."""

    #: PostgreSQL ≥ 15 with PostGIS 3; `public` holds the platform, `t_<slug>` each territory.
    DATABASE_URL: str = "postgresql://root@127.0.0.1:5432/vivrau"
    #: Redis for RQ queues, rate limits and small caches.
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    #: Seconds a process waits for Redis (to connect, then for each reply) before it does
    #: without it (README, "When Redis is down"): a request never hangs on a silent Redis.
    REDIS_TIMEOUT: float = 1.0
    #: Once Redis failed to answer, a process tries it again after this many seconds; meanwhile
    #: it counts rate limits in its memory and leaves queued work to the sweeps.
    REDIS_RETRY_SECONDS: float = 5.0
    #: A running import writes its heartbeat this often (seconds)…
    IMPORT_HEARTBEAT_SECONDS: float = 10.0
    #: …and one silent this long (several heartbeats) has lost its worker: the import sweep
    #: runs it again. Queued imports get as long for their job to reach Redis.
    IMPORT_STALE_SECONDS: float = 60.0
    #: Seconds between two import sweeps (the cron's): queued imports with no job are queued,
    #: interrupted ones run again. Read when the cron starts.
    IMPORT_SWEEP_SECONDS: int = 60
    #: Interrupted runs of one import before the sweep marks it failed (the console can still
    #: run it again).
    IMPORT_MAX_ATTEMPTS: int = 3
    #: Territories are served on `<slug>.<BASE_DOMAIN>`; the console on `admin.<BASE_DOMAIN>`.
    BASE_DOMAIN: str = "vivrau.localhost"
    #: Signs sessions and links; generated into var/secret_key when unset.
    SECRET_KEY: str = ""
    #: `file://var/storage` (relative to the project) or `s3://bucket/prefix`.
    STORAGE_URL: str = "file://var/storage"
    #: Endpoint of an S3-compatible server (empty: AWS itself).
    S3_ENDPOINT_URL: str = ""
    #: Outbound mail: `smtp://user:pass@host:port`, `smtps://…` for implicit TLS,
    #: `?starttls=1` to upgrade a plain connection.
    SMTP_URL: str = "smtp://127.0.0.1:1025"
    #: Sender of every outbound mail.
    MAIL_FROM: str = "VivrauBassindeVie <ne-pas-repondre@vivrau.localhost>"
    #: Demo only: the page of the local mail catcher (`flask mail catch`), said to a person
    #: who registers so they can open the verification mail. Empty in production.
    MAIL_VIEWER_URL: str = ""
    #: Extra trusted host names (comma-separated; a leading dot accepts subdomains),
    #: e.g. verified custom domains of territories.
    TRUSTED_HOSTS: str = ""
    #: Seconds a host → territory lookup is cached by a web process (0: no cache).
    TENANT_CACHE_SECONDS: float = 5.0
    #: Seconds a territory's entitlements (what its contracts switch on) are cached by a process;
    #: the process that changes a contract or a grant drops its cache at once, the others after
    #: this delay.
    ENTITLEMENT_CACHE_SECONDS: float = 30.0
    #: Connections per web process to PostgreSQL.
    DB_POOL_SIZE: int = 5
    #: `json` for one JSON object per log line, `text` for humans.
    LOG_FORMAT: str = "json"
    LOG_LEVEL: str = "INFO"
    #: Script directory of the territory schemas' migrations.
    TENANT_MIGRATIONS: str = str(ROOT / "migrations" / "tenant")
    #: Folder for local state (secret key, local storage, pid files).
    VAR_DIR: str = str(ROOT / "var")
    #: The national matrix's files (`flask geo build-national`), mapped by every process of a
    #: machine; empty: `<VAR_DIR>/national`.
    NATIONAL_DIR: str = ""
    #: Requests per API key (Flask-Limiter notation) on /api/v1/listings.
    API_RATE_LIMIT: str = "600/minute"
    #: How far (metres) outside its territory's communes a listing's point may lie (the API,
    #: the console and files alike): a farm across the border, a geocoder's rounding.
    PERIMETER_MARGIN_M: int = 2000
    #: Seconds a listing photo's fetch may take at most (redirects included); slower: refused.
    PHOTO_FETCH_TIMEOUT: float = 10.0
    #: Tests only: let the photo fetcher reach 127.0.0.1 (every other private, loopback or
    #: link-local address stays refused). Never set it in production.
    PHOTO_FETCH_ALLOW_LOOPBACK: bool = False
    #: Messages a client address may send to advertisers through listing pages (per territory).
    CONTACT_RATE_LIMIT: str = "5/hour;20/day"
    #: A contact form sent sooner than this after the page was shown is a robot's, not a person's.
    CONTACT_MIN_SECONDS: int = 3
    #: Searches per client address and territory (POST /api/v1/search and /search/cell).
    SEARCH_RATE_LIMIT: str = "120/minute"
    #: Cookies get `Secure` (HTTPS only); unset: on, unless BASE_DOMAIN is a *.localhost name.
    SESSION_COOKIE_SECURE: bool | None = None
    #: Reverse proxies in front of the application (nginx: 1). Their `X-Forwarded-For` and
    #: `X-Forwarded-Proto` then give the client's address and scheme (rate limits, audit log,
    #: HSTS); 0: no proxy trusted, those headers are ignored (a client could forge them).
    TRUSTED_PROXIES: int = 0
    #: A session ends after this many minutes without a request (each request extends it)…
    SESSION_IDLE_MINUTES: int = 120
    #: …and this many hours after login at the latest (log in again then).
    SESSION_MAX_HOURS: int = 12
    #: A normed file (CSV or XLSX) holds at most this many listing rows (the header aside);
    #: in a spreadsheet, blank rows up to the last one count too (they are read all the same).
    NORMED_MAX_ROWS: int = 200_000
    #: Columns of a normed file at most, a spreadsheet's or a CSV record's (the widest template
    #: has 31; room for notes beside).
    NORMED_MAX_COLUMNS: int = 100
    #: A spreadsheet's cells at most, empty ones included (the rows' limit × 30 columns).
    NORMED_MAX_CELLS: int = 6_000_000
    #: A spreadsheet's shared strings at most (its distinct texts); each is kept in memory
    #: while the sheet is read, so this bounds the memory a tiny hostile file can claim.
    NORMED_MAX_SHARED_STRINGS: int = 1_000_000
    #: The parts of a spreadsheet once unzipped, in MB at most (a zip bomb is refused on the
    #: sizes its directory declares, before anything is inflated).
    NORMED_MAX_UNZIPPED_MB: int = 200
    #: Base map of every map. Empty: the platform's own vector tiles (`/fond-de-carte/…`, made
    #: from the communes and any OSM extract loaded; nothing fetched from outside). Else a raster
    #: tile service's URL (`https://tiles.example/{z}/{x}/{y}.png`), whose origin the CSP allows.
    BASEMAP_URL: str = ""
    #: Attribution shown on the map for that basemap (HTML is escaped).
    BASEMAP_ATTRIBUTION: str = ""
    #: The seller printed on every invoice (frozen on each one when it is finalised). The
    #: defaults are placeholders that pass the checksums: set the real identity in production.
    SELLER_NAME: str = "VivroVert"
    SELLER_LEGAL_FORM: str = "SAS"
    SELLER_SHARE_CAPITAL: str = "10 000 €"
    SELLER_SIREN: str = "900000001"
    SELLER_SIRET: str = "90000000100009"
    #: Intra-community VAT number (FR + 2-digit key + SIREN).
    SELLER_VAT_NUMBER: str = "FR68900000001"
    #: Registration, e.g. "RCS Aurillac 900 000 001".
    SELLER_REGISTRATION: str = "RCS Aurillac 900 000 001"
    SELLER_ADDRESS_LINE1: str = "1 place de la Halle"
    SELLER_ADDRESS_LINE2: str = ""
    SELLER_POSTCODE: str = "15100"
    SELLER_CITY: str = "Saint-Flour"
    SELLER_COUNTRY_CODE: str = "FR"
    SELLER_EMAIL: str = "facturation@vivrau.localhost"
    SELLER_PHONE: str = ""
    #: Bank details printed for payment by transfer.
    SELLER_IBAN: str = "FR7630001007941234567890185"
    SELLER_BIC: str = "BDFEFRPPXXX"
    #: Days between an invoice's date and its due date.
    BILLING_PAYMENT_DAYS: int = 30
    #: The ECB's main refinancing rate (basis points: 215 = 2.15 %), updated each half-year.
    BILLING_ECB_RATE_BP: int = 215
    #: Points added to it for late-payment interest; public buyers owe ECB + 8 points
    #: (Code de la commande publique, R2192-31), private ones ECB + 10 (Code de commerce).
    BILLING_LATE_MARGIN_BP: int = 800
    #: Fixed recovery indemnity owed on a late payment (cents): 40 €.
    BILLING_RECOVERY_INDEMNITY_CENTS: int = 4000
    #: Days between two reminders of the same overdue invoice.
    BILLING_REMINDER_DAYS: int = 15
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            if f.name == "extra" or f.name not in env:
                continue
            raw = env[f.name]
            if not raw.strip():  # an empty variable means "the default", as in .env.example
                continue
            kind = str(f.type).split(" ")[0]  # annotations are strings here: "bool | None"…
            if kind == "bool":
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif kind == "int":
                values[f.name] = int(raw)
            elif kind == "float":
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        return cls(**values)

    def to_flask(self) -> dict:
        """The mapping handed to `app.config`, with derived values filled in."""
        var_dir = ROOT / self.VAR_DIR  # a relative path is the project's; an absolute one stays
        storage = self.STORAGE_URL
        if storage.startswith("file://") and not storage.startswith("file:///"):
            storage = "file://" + str((ROOT / storage[len("file://") :]).resolve())
        trusted = [f".{self.BASE_DOMAIN}", self.BASE_DOMAIN]
        trusted += [h.strip().lower() for h in self.TRUSTED_HOSTS.split(",") if h.strip()]
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out.update(
            SECRET_KEY=self.SECRET_KEY or _secret_key(var_dir),
            SQLALCHEMY_DATABASE_URI=database_url(self.DATABASE_URL),
            SQLALCHEMY_ENGINE_OPTIONS={
                "pool_size": self.DB_POOL_SIZE,
                "pool_pre_ping": True,
                "connect_args": {"application_name": "vivrau"},
            },
            STORAGE_URL=storage,
            TRUSTED_HOSTS=trusted,
            VAR_DIR=str(var_dir),
            NATIONAL_DIR=str(ROOT / self.NATIONAL_DIR)
            if self.NATIONAL_DIR
            else str(var_dir / "national"),
            TENANT_MIGRATIONS=str(ROOT / self.TENANT_MIGRATIONS),
            SESSION_COOKIE_SECURE=(
                not self.BASE_DOMAIN.endswith("localhost")
                if self.SESSION_COOKIE_SECURE is None
                else self.SESSION_COOKIE_SECURE
            ),
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            # Host-only cookies: a territory's session is never sent to another's host.
            SESSION_COOKIE_DOMAIN=False,
            REMEMBER_COOKIE_DURATION=0,
            # The signed cookie itself expires then too (core.auth.login checks each limit).
            PERMANENT_SESSION_LIFETIME=timedelta(hours=self.SESSION_MAX_HOURS),
            BABEL_DEFAULT_LOCALE="fr",
            BABEL_DEFAULT_TIMEZONE="Europe/Paris",
            BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
            RATELIMIT_STORAGE_URI=self.REDIS_URL,
            # Errors as limits' StorageError, for the in-memory fallback (core.extensions).
            RATELIMIT_STORAGE_OPTIONS={
                "socket_connect_timeout": self.REDIS_TIMEOUT,
                "socket_timeout": self.REDIS_TIMEOUT,
                "wrap_exceptions": True,
            },
            RATELIMIT_KEY_PREFIX="vivrau",
            WTF_CSRF_TIME_LIMIT=None,
            MAX_CONTENT_LENGTH=8 * 1024 * 1024,
            # Streamed bodies stay as they are (compressing them would leave files open);
            # small files are read into memory first so they are compressed (core.extensions).
            COMPRESS_STREAMS=False,
        )
        out.update(self.extra)
        return out

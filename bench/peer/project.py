"""The peer: a minimal Django project with django-tenants whose tenant app holds our territory
schema's tables, columns and indexes, generated from our SQLAlchemy tenant metadata, in its own
virtualenv installed from PyPI. Both are kept under var/bench/ and made again only when the
metadata (or this generator) changes.

Django cannot express everything our migrations make: the PostGIS point column and its GiST
index (Django's GIS needs GDAL, which is not installed) and the CHECK constraints (Django wants
them as Q objects) are added by a RunSQL operation in a second, generated migration; the
tables, columns, defaults (`db_default`), comments, unique constraints, foreign keys and the
other indexes are ordinary Django fields and Meta options, migrated by `makemigrations`.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import os
import shutil
import subprocess
import sys
from pathlib import Path

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.functions import now

from bench.harness import ROOT
from migrations.models import tenant_metadata

HERE = Path(__file__).resolve().parent
CACHE = ROOT / "var" / "bench"
VENV = CACHE / "peer-venv"
PYTHON = VENV / "bin" / "python"
#: The latest django-tenants that supports a Django 5.x, as pip resolves it.
#: Django 5.2 at least: its CompositePrimaryKey says a primary key of several columns.
REQUIREMENTS = ["django>=5.2,<6", "django-tenants", "psycopg[binary]"]
#: Django's names for our delete rules.
ON_DELETE = {"CASCADE": "models.CASCADE", "SET NULL": "models.SET_NULL", None: "models.DO_NOTHING"}

SETTINGS = """\
import os

SECRET_KEY = "bench-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
# django-tenants needs contenttypes among the shared apps; the tenant schema holds only ours.
SHARED_APPS = ["django_tenants", "django.contrib.contenttypes", "customers"]
TENANT_APPS = ["territory"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
TENANT_MODEL = "customers.Client"
TENANT_DOMAIN_MODEL = "customers.Domain"
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("PEER_PROCESSES", "2"))
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
MIDDLEWARE = ["django_tenants.middleware.main.TenantMainMiddleware"]
ROOT_URLCONF = "peer.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Our index names are up to 30 characters like Django's own limit, some of our names are longer.
SILENCED_SYSTEM_CHECKS = ["models.E034"]
DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": os.environ["PEER_DB_NAME"],
        "USER": os.environ.get("PEER_DB_USER", ""),
        "PASSWORD": os.environ.get("PEER_DB_PASSWORD", ""),
        "HOST": os.environ.get("PEER_DB_HOST", ""),
        "PORT": os.environ.get("PEER_DB_PORT", ""),
    }
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
"""

CUSTOMERS = """\
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Client(TenantMixin):
    name = models.CharField(max_length=200)
    auto_create_schema = True


class Domain(DomainMixin):
    pass
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

ADDITIVE = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("territory", "{previous}")]
    operations = [
        migrations.AddField("pages", "{column}", models.TextField(null=True)),
    ]
"""


def _class(table: str) -> str:
    return "".join(part.capitalize() for part in table.split("_"))


def _attribute(column) -> str:
    """The Django field's name: a foreign key `listing_id` is the field `listing`."""
    if column.foreign_keys and column.name.endswith("_id"):
        name = column.name[: -len("_id")]
        return f"{name}_ref" if keyword.iskeyword(name) else name  # `import_id`: `import_ref`
    return column.name


def _default(column, kind: str) -> str | None:
    """Our server default as Django's `db_default`."""
    default = column.server_default
    if default is None:
        return None
    arg = default.arg
    if isinstance(arg, now) or (isinstance(arg, TextClause) and arg.text == "now()"):
        return "Now()"
    value = str(arg)
    if kind == "BooleanField":
        return repr(value == "true")
    if kind == "IntegerField":
        return repr(int(value))
    if kind == "JSONField":
        return repr(json.loads(value))
    return repr(value)


def _type(column) -> tuple[str, dict[str, str]]:
    """Django's field class and its type arguments for a column's type (Text before String:
    Text is a String)."""
    t = column.type
    if isinstance(t, Integer):
        return "IntegerField", {}
    if isinstance(t, Text):
        return "TextField", {}
    if isinstance(t, String):
        return "CharField", {"max_length": repr(t.length)}
    if isinstance(t, Boolean):
        return "BooleanField", {}
    if isinstance(t, DateTime):
        return "DateTimeField", {}
    if isinstance(t, Date):
        return "DateField", {}
    if isinstance(t, Numeric):
        return "DecimalField", {"max_digits": repr(t.precision), "decimal_places": repr(t.scale)}
    if isinstance(t, postgresql.JSONB):
        return "JSONField", {}
    if isinstance(t, ARRAY):
        inner = t.item_type
        return "ArrayField", {"base_field": f"models.CharField(max_length={inner.length!r})"}
    raise ValueError(f"{column.table.name}.{column.name}: no Django field for {t!r}")


def _field(column) -> str:
    args: dict[str, str] = {}
    if column.foreign_keys:
        (key,) = column.foreign_keys
        target = _class(key.column.table.name)
        ondelete = key.constraint.ondelete
        cls, args = "ForeignKey", {"to": repr(target), "on_delete": ON_DELETE[ondelete]}
        args.update(db_index="False", related_name="'+'", db_column=repr(column.name))
    else:
        cls, args = _type(column)
        if column.primary_key and cls == "IntegerField":
            cls = "AutoField"
        if (default := _default(column, cls)) is not None:
            args["db_default"] = default
    if column.primary_key and len(column.table.primary_key.columns) == 1:
        args["primary_key"] = "True"  # several: the model's CompositePrimaryKey says it
    if column.nullable and not column.primary_key:
        args["null"] = "True"
    if column.comment:
        args["db_comment"] = repr(column.comment)
    module = "ArrayField" if cls == "ArrayField" else f"models.{cls}"
    return f"{module}({', '.join(f'{k}={v}' for k, v in args.items())})"


def _meta(table) -> list[str]:
    """Indexes and unique constraints Django makes itself (the GiST one goes by RunSQL)."""
    names = {c.name: _attribute(c) for c in table.columns}
    indexes, constraints = [], []
    for index in sorted(table.indexes, key=lambda i: i.name):
        if index.dialect_options["postgresql"].get("using"):
            continue
        fields = [names[c.name] for c in index.columns]
        if index.unique:
            constraints.append(f"models.UniqueConstraint(fields={fields!r}, name={index.name!r})")
        else:
            indexes.append(f"models.Index(fields={fields!r}, name={index.name!r})")
    for constraint in sorted(table.constraints, key=lambda c: c.name):
        if isinstance(constraint, UniqueConstraint):
            fields = [names[c.name] for c in constraint.columns]
            constraints.append(
                f"models.UniqueConstraint(fields={fields!r}, name={constraint.name!r})"
            )
    return [
        f"        db_table = {table.name!r}",
        f"        indexes = [{', '.join(indexes)}]",
        f"        constraints = [{', '.join(constraints)}]",
    ]


def _raw_sql(tables) -> list[str]:
    """What Django cannot say: the PostGIS columns and their GiST indexes, the CHECKs."""
    statements = []
    dialect = postgresql.dialect()
    for table in tables:
        for column in table.columns:
            if isinstance(column.type, Geometry):
                kind = column.type.compile(dialect=dialect)
                statements.append(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")
        for index in sorted(table.indexes, key=lambda i: i.name):
            using = index.dialect_options["postgresql"].get("using")
            if using:
                columns = ", ".join(c.name for c in index.columns)
                statements.append(
                    f"CREATE INDEX {index.name} ON {table.name} USING {using} ({columns})"
                )
        for constraint in sorted(table.constraints, key=lambda c: c.name):
            if isinstance(constraint, CheckConstraint):
                statements.append(
                    f"ALTER TABLE {table.name} ADD CONSTRAINT {constraint.name} "
                    f"CHECK ({constraint.sqltext})"
                )
    return statements


def sources() -> dict[str, str]:
    """The project's files, path → text, generated from the tenant metadata."""
    tables = [t for t in tenant_metadata.sorted_tables if not isinstance(t, Index)]
    models = [
        "from django.contrib.postgres.fields import ArrayField",
        "from django.db import models",
        "from django.db.models.functions import Now",
    ]
    for table in tables:
        models += ["", "", f"class {_class(table.name)}(models.Model):"]
        models += [
            f"    {_attribute(c)} = {_field(c)}"
            for c in table.columns
            if not isinstance(c.type, Geometry)
        ]
        if len(key := table.primary_key.columns) > 1:
            models.append(
                f"    pk = models.CompositePrimaryKey({', '.join(repr(c.name) for c in key)})"
            )
        models += ["", "    class Meta:", *_meta(table)]
        if table.comment:
            models.append(f"        db_table_comment = {table.comment!r}")
    raw = _raw_sql(tables)
    postgis = (
        "from django.db import migrations\n\n\n"
        "# Generated with the models: what Django cannot express without GDAL or Q objects.\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("territory", "0001_initial")]\n'
        f"    operations = [migrations.RunSQL({raw!r})]\n"
    )
    return {
        "manage.py": MANAGE,
        "peer/__init__.py": "",
        "peer/settings.py": SETTINGS,
        "peer/urls.py": "urlpatterns = []\n",
        "customers/__init__.py": "",
        "customers/models.py": CUSTOMERS,
        "customers/migrations/__init__.py": "",
        "territory/__init__.py": "",
        "territory/models.py": "\n".join(models) + "\n",
        "territory/migrations/__init__.py": "",
        "territory/migrations/0002_postgis_and_checks.py": postgis,
        "driver.py": (HERE / "driver.py").read_text(),
    }


def peer_env(database_url: str, project: Path) -> dict[str, str]:
    """The peer's environment: its database, its settings, nothing of ours."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FLASK_"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "peer.settings",
        "PYTHONPATH": str(project),
        "PEER_DB_NAME": url.database or "",
        "PEER_DB_USER": url.username or "",
        "PEER_DB_PASSWORD": url.password or "",
        "PEER_DB_HOST": url.host or "",
        "PEER_DB_PORT": str(url.port or ""),
    }


def virtualenv() -> str:
    """The peer's virtualenv, made once from PyPI; the versions it holds."""
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *REQUIREMENTS], check=True)
    done = subprocess.run(
        [str(PYTHON), "-c", "import django, importlib.metadata as m;"
         "print('Django', django.get_version(), '+ django-tenants', m.version('django-tenants'))"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def project(database_url: str) -> Path:
    """The generated project with its migrations (made by `makemigrations`), kept by the hash
    of its sources; a copy of it is what a run migrates (it adds migrations of its own)."""
    files = sources()
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:12]
    kept = CACHE / f"peer-project-{digest}"
    if not (kept / "territory" / "migrations" / "0001_initial.py").exists():
        shutil.rmtree(kept, ignore_errors=True)
        raw = "territory/migrations/0002_postgis_and_checks.py"  # after 0001, made below
        for path, text in files.items():
            if path != raw:
                (kept / path).parent.mkdir(parents=True, exist_ok=True)
                (kept / path).write_text(text)
        manage = [str(PYTHON), "manage.py", "makemigrations", "customers", "territory"]
        done = subprocess.run(
            manage, cwd=kept, env=peer_env(database_url, kept), capture_output=True, text=True
        )
        if done.returncode != 0:
            shutil.rmtree(kept, ignore_errors=True)
            raise RuntimeError(f"makemigrations failed:\n{done.stdout}\n{done.stderr}")
        (kept / raw).write_text(files[raw])
    return kept


def additive_migration(project_copy: Path, column: str) -> None:
    """One more tenant migration adding a nullable text column to pages."""
    folder = project_copy / "territory" / "migrations"
    previous = sorted(p.stem for p in folder.glob("0*.py"))[-1]
    number = int(previous[:4]) + 1
    (folder / f"{number:04d}_{column}.py").write_text(
        ADDITIVE.format(previous=previous, column=column)
    )

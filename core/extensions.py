"""Extensions, created unbound here and bound to the application in `create_app`.

Models derive from `core.db.PublicBase` / `TenantBase`, not from `db.Model`: the extension
provides the engine and the request-scoped, tenant-aware session.
"""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from core.db import TenantSession

db = SQLAlchemy(session_options={"class_": TenantSession})
migrate = Migrate()

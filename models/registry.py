"""Import every model module so that `Base.metadata` contains every table."""

from models import activity, approvals, audit, commerce, crm, discipline, jobs, messages, org, pipeline, pool, service  # noqa: F401
from models.base import Base

metadata = Base.metadata

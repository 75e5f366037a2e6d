"""What every use case receives: the open transaction, who acts, and when."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.org import Role, User

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Context:
    session: Session
    actor: User
    now: datetime  # aware; when the message was sent
    source_message_id: int | None = None

    @property
    def today(self):
        return self.now.astimezone(SHANGHAI).date()

    @property
    def is_manager(self) -> bool:
        return self.actor.role in (Role.REGIONAL_DIRECTOR, Role.SALES_DIRECTOR)


class DomainError(Exception):
    """A use case cannot go ahead; `message` is the Chinese text for the user and nothing changed."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(code)
        self.message = message
        self.code = code

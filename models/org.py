"""People of the company: departments, users and their roles."""

from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Role(StrEnum):
    REP = "rep"
    REGIONAL_DIRECTOR = "regional_director"
    FINANCE_HEAD = "finance_head"
    ENGINEER = "engineer"
    SALES_DIRECTOR = "sales_director"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.REP: "销售",
    Role.REGIONAL_DIRECTOR: "区域总监",
    Role.FINANCE_HEAD: "财务负责人",
    Role.ENGINEER: "技术部",
    Role.SALES_DIRECTOR: "销售总监",
}


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class User(Base):
    """A member of the company's WeCom; `userid` is the WeCom UserID."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(30))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    on_leave: Mapped[bool] = mapped_column(default=False)

    department: Mapped[Department | None] = relationship(lazy="joined")
    manager: Mapped["User | None"] = relationship(remote_side=[id])


class CompanySetting(Base):
    """A company-wide value loaded with the world file, such as the company's own name."""

    __tablename__ = "company_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))

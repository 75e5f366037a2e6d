"""Access rules: which customers a user may see and change."""

from sqlalchemy import Select, or_, select

from models.crm import Customer
from models.org import Role, User


def can_see_customer(user: User, customer: Customer) -> bool:
    """Tell whether the user may see the customer: reps their own and the pool, directors their region, others all."""
    if user.role in (Role.SALES_DIRECTOR, Role.FINANCE_HEAD, Role.ENGINEER):
        return True
    if customer.owner_id is None or customer.owner_id == user.id:
        return True
    if user.role == Role.REGIONAL_DIRECTOR and customer.owner is not None:
        return customer.owner.department_id == user.department_id or customer.owner.manager_id == user.id
    return False


def can_change_deals(user: User, customer: Customer) -> bool:
    """Tell whether the user may change the customer's opportunities (the owner or their director)."""
    if customer.owner_id == user.id or user.role == Role.SALES_DIRECTOR:
        return True
    return user.role == Role.REGIONAL_DIRECTOR and can_see_customer(user, customer)


def visible_customers(user: User) -> Select:
    """Return a query of the customers the user may see."""
    query = select(Customer)
    if user.role == Role.REP:
        return query.where(or_(Customer.owner_id == user.id, Customer.owner_id.is_(None)))
    if user.role == Role.REGIONAL_DIRECTOR:
        team = select(User.id).where(or_(User.department_id == user.department_id, User.manager_id == user.id))
        return query.where(or_(Customer.owner_id.in_(team), Customer.owner_id.is_(None)))
    return query

"""Accounts: the roles an account can have, stated once for the database rules, the forms and the command line."""

from __future__ import annotations

from typing import Literal, get_args

# 'moderator' moderates the events it is given (or every event); 'admin' moderates every event and may use /admin.
Role = Literal["moderator", "admin"]
ROLES: tuple[str, ...] = get_args(Role)

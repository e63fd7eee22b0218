"""Accounts, sign-in and administration of people, as a component of the platform."""

from voice.accounts.controllers import AccountController, AdminController, MeController
from voice.component import Component

component = Component(name="accounts", route_handlers=[AccountController, MeController, AdminController])

"""Accounts, sign-in (password, second factor, single sign-on) and the account pages, as a component."""

from voice.accounts.settings import AccountsSettings
from voice.accounts.web.account import AccountController, MeController
from voice.accounts.web.signin import SignInController
from voice.component import Component

component = Component(name="accounts", route_handlers=[SignInController, AccountController, MeController],
                      settings=AccountsSettings.from_env)

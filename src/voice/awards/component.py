"""The award: editions, judging and evidence dossiers, as a component of the platform."""

from voice.awards.api import AwardApi
from voice.awards.controllers import AwardAdminPages, AwardPages
from voice.awards.pages import AgencyAwardPages
from voice.awards.web.judging import JudgingPages
from voice.component import Component

component = Component(name="awards", route_handlers=[
    AwardPages, AwardAdminPages, JudgingPages, AgencyAwardPages, AwardApi])

"""E-consultation on draft policies and regulations, as a component of the platform. Its tables and its
theme scope family ("cons_<id>") register themselves in ``voice.consultations.models``."""

from voice.component import Component
from voice.consultations.api import AgencyConsultationApi, ConsultationApi
from voice.consultations.controllers import ConsultationPages
from voice.consultations.pages import ConsultationStaffPages

component = Component(name="consultations", route_handlers=[ConsultationPages, ConsultationStaffPages,
                                                                 AgencyConsultationApi, ConsultationApi])

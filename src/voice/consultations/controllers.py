"""Consultation pages (staff and public) and the services they and the API receive."""

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar.di import Provide

from voice.consultations.insights import ConsultationInsightService
from voice.consultations.participation import ConsultationParticipationService
from voice.consultations.response import ConsultationResponseService
from voice.consultations.services import ConsultationService

DEPENDENCIES = {
    "consultations": Provide(create_service_provider(ConsultationService)),
    "participation": Provide(create_service_provider(ConsultationParticipationService)),
    "insights": Provide(create_service_provider(ConsultationInsightService)),
    "responses": Provide(create_service_provider(ConsultationResponseService)),
}

"""Personal data rights, as a component of the platform."""

from voice.component import Component
from voice.privacy.controllers import PrivacyPages

component = Component(name="privacy", route_handlers=[PrivacyPages])

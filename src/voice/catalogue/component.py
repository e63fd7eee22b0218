"""The catalogue of agencies and e-services, as a component of the platform."""

from voice.catalogue.controllers import AgencyHomeController, CatalogueApi
from voice.component import Component

component = Component(name="catalogue", route_handlers=[CatalogueApi, AgencyHomeController])

"""E-mail notifications, as a component of the platform: the job that sends the outbox."""

from voice.component import Component
from voice.notifications.outbox import send_notification

component = Component(name="notifications", tasks=[send_notification])

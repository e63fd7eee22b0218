"""Open311 GeoReport v2 over our catalogue and feedback, for the tools cities and agencies already run.

Mapping
-------
- A *service* is one active e-service of an active agency. ``service_code`` is
  ``"<agency_slug>.<service_slug>"``; ``service_name`` and ``group`` (the agency's name) follow the
  request's language (``?lang=``, then ``Accept-Language``); ``description`` is the Arabic
  description, or the service's name when there is none or English is asked for (the catalogue has
  no English descriptions). ``metadata`` is always false, ``type`` always "realtime", and
  ``keywords`` lists the feedback kinds a request may carry.
- A *service request* is one feedback item. In lists its ``service_request_id`` is a public id
  ("FB-123"); the tracking code (returned by POST, the submitter's key to private answers, as on
  the tracking page) is echoed only to whoever looks an item up by it. ``status`` is "closed"
  for resolved and declined items, "open" otherwise; ``status_notes`` is the note of the latest
  status change (null without one); ``description`` is always the public, redacted text, never
  what the person wrote; ``expected_datetime`` is the agency's answer deadline (``due_at``). Times
  are ISO 8601 with their offset, in Saudi time (+03:00).
- ``POST requests.json`` goes through ``IntakeService.submit`` (same checks as the web form and
  the JSON API) with channel ``open311``. ``attribute[kind]`` (complaint, suggestion, praise,
  question; default complaint), ``attribute[submitter_kind]`` (default individual) and
  ``attribute[publish]`` (true/false, default false) map onto our fields; ``email`` becomes the
  private contact address for status e-mails. The body is form-encoded as the standard says, or a
  JSON object (``attribute`` may then be a nested object).
- Authentication is by Bearer token or none, as for /api/; ``api_key`` is accepted and ignored.

Deviations from the standard, and why
-------------------------------------
- Location is not required. Our services are e-services with no physical place, so ``lat``,
  ``long``, ``address_string`` and ``address_id`` are accepted and discarded, and answers carry
  ``address``, ``lat``, ``long`` and ``media_url`` as null. ``first_name``, ``last_name``,
  ``phone``, ``device_id``, ``account_id`` and ``media_url`` are accepted and never stored.
- Items sent without a particular e-service (possible on the web form) carry the bare agency slug
  as ``service_code``; that code is also accepted by ``POST requests.json`` and by the
  ``service_code`` filter, although services.json does not list it.
- ``GET requests.json`` returns only items whose author agreed to publish them and that are on the
  public board, newest first, at most 1000. Without ``service_request_id`` it covers
  ``start_date``..``end_date`` (default: the last 90 days; a missing end is start + 90 days, a
  missing start is end - 90 days; a span over 90 days is refused). Dates without an offset are
  read as UTC. ``service_request_id`` (at most 100, comma-separated) overrides every other filter,
  as the standard says, but still returns only public items, so the list cannot be used to probe
  for private ones: a private item is seen through ``requests/{id}.json`` by its code only.
- Only JSON: every ``.xml`` address answers 400 with an Open311 error saying so. There is no
  discovery document and no service definitions (``metadata`` is false for every service).
- Errors are the standard's JSON array ``[{"code": <HTTP status>, "description": "..."}]``, one
  entry per invalid field (prefixed "field: ") in the request's language: 400 for missing or
  invalid parameters (also our usual 422 validation failures), 404 for an unknown
  ``service_code`` or ``service_request_id``, 415 for a body that is neither form-encoded nor JSON,
  429 when throttled (30 POSTs a minute per client), 503 when the database is unreachable.

Layout
------
The protocol (``controller``: addresses, parameters, formats; ``schemas``: each operation's output;
``errors``: the standard's error list) knows nothing of the business rules. It asks the business side
through the small interface in ``queries`` (the e-services, a service code's agency and e-service, the
published requests matching a search, one request by id, status notes) and stores requests through
voice.feedback.intake like every other channel.
"""

"""Award pages beyond the public and administration ones (``voice.awards.controllers``)."""

"""Attachments: files people upload with feedback, award entries and consultations. One mechanism —
checked by content, images re-encoded without metadata, PDFs parsed, optionally scanned by ClamAV —
stored behind one interface (local disk or S3-compatible, through obstore) and served only through the
app with the viewer's rights checked (docs/security.md, "Attachments")."""

"""The agency workspace's pages, one module per part: the themes dashboard and a theme's page with its
bulk actions (themes), the inbox and one item (inbox), improvements and the public "you said, we did"
page (improvements), exports and charts (reports)."""

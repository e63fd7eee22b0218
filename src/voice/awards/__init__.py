"""Award editions, branches, rubrics, judging and participation evidence."""

"""Staff reports: summaries, exports and the HTML report, built from stored rows."""

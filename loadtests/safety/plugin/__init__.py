"""Files the safety check puts on the path of a team's pytest (never imported by the lab itself)."""

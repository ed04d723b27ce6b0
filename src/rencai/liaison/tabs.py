"""The liaison area's tabs on the talent's page."""

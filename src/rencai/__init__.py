"""rencai (人才): the talent-work platform of a city's talent office and its county offices."""

__version__ = "0.1.0"

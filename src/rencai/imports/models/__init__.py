"""Models of the imports app, a module per part: import batches and mappings (``batches``),
duplicate candidates and merges (``dedupe``)."""

from rencai.imports.models.batches import *  # noqa: F403
from rencai.imports.models.dedupe import *  # noqa: F403

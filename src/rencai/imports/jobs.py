"""Background jobs of the imports app (found by the job registry's autodiscovery): import,
export and dedupe register theirs in their own modules."""

from rencai.imports import jobs_dedupe, jobs_export, jobs_import  # noqa: F401

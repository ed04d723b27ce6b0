"""The static-files storage of production: WhiteNoise's compressed, hashed manifest storage.

The vendor packages from npm (Tabler and the libraries bundled with it) reference files they
do not ship (source maps, a library's optional images). Such a reference inside ``vendor/`` is
left as it is instead of failing ``collectstatic``; a missing file of rencai's own still fails.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage

VENDOR_PREFIX = "vendor/"


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:
            if name.strip().startswith(VENDOR_PREFIX):
                return name
            raise

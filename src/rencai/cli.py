"""The ``rencai`` console script: rencai's own commands and every Django management command.

``rencai init``, ``rencai serve``, ``rencai demo``, ``rencai token create USER``,
``rencai audit verify``, ``rencai backup``, ``rencai restore FILE`` … and e.g. ``rencai migrate``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rencai.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "rencai"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()

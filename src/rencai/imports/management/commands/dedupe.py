"""``rencai dedupe [--threshold X]``: find duplicate talents across the registry and refresh the
review queue (the same run as the background job of the 疑似重复 page)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rencai.core import audit
from rencai.core.models.audit import AuditAction
from rencai.imports.dedupe import scoring


class Command(BaseCommand):
    help = "人才库查重：比对全部人才记录，把疑似重复的记录对放入审核列表（已判定“不是同一人”的不再提出）。"

    def add_arguments(self, parser):
        parser.add_argument("--threshold", type=float, default=scoring.DEFAULT_THRESHOLD,
                            help=f"判定为疑似重复的最低概率（0–1，默认 {scoring.DEFAULT_THRESHOLD}）")

    def handle(self, *args, threshold: float, **options):
        if not 0 < threshold < 1:
            raise CommandError(f"--threshold 应在 0 与 1 之间（不含），收到 {threshold}")
        from rencai.imports.dedupe.runner import run_dedupe

        verbosity = options.get("verbosity", 1)

        def progress(percent: int, message: str) -> None:
            if verbosity > 1:
                self.stderr.write(f"{percent:3d}% {message}")

        result = run_dedupe(threshold=threshold, progress=progress)
        audit.record(AuditAction.UPDATE, actor_name="命令行", object_type="imports.duplicatepair",
                     object_repr="人才库查重", changes=result.as_dict(), message="命令行运行人才库查重")
        self.stdout.write(
            f"查重完成：{result.records} 条记录，比对 {result.compared} 对，"
            f"发现疑似重复 {result.pairs} 对（{result.clusters} 组），阈值 {threshold}。"
        )

"""Import batches, their uploads and saved column mappings.

An upload (``ImportUpload``) is the file as the user sent it, kept under ``var/uploads`` (not in
MEDIA: it holds personal data and is never served as a static file). A batch (``ImportBatch``) is
one run of the import over an upload with its options: who ran it, the counts, the row errors
for the report, and what undo needs (``ImportChange`` rows hold the values an update replaced;
talents the batch created carry the batch's reference in ``Talent.source_ref``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import EncryptedTextField
from rencai.core.models import RencaiModel

__all__ = ["ImportBatch", "ImportBatchStatus", "ImportChange", "ImportMapping", "ImportUpload", "UploadKind"]


class UploadKind(models.TextChoices):
    XLSX = "xlsx", _("Excel 工作簿（.xlsx）")
    XLS = "xls", _("Excel 97-2003 工作簿（.xls）")
    CSV = "csv", _("CSV 文本文件")


class ImportUpload(RencaiModel):
    """A file uploaded for import (上传的导入文件), checked for type and size when stored."""

    file_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    stored_path = models.CharField(_("存储位置"), max_length=255, help_text=_("相对于上传目录的路径"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("文件类型"), max_length=8, choices=UploadKind.choices)
    encoding = models.CharField(_("文本编码"), max_length=16, blank=True, help_text=_("CSV 文件的编码"))

    class Meta:
        verbose_name = _("导入文件")
        verbose_name_plural = _("导入文件")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def path(self):
        return settings.UPLOAD_DIR / self.stored_path

    def open(self):
        """The file as a ``readers.Workbook`` (the one kept by ``keep_open``, if any)."""
        from rencai.imports.readers import open_workbook

        kept = getattr(self, "_workbook", None)
        if kept is not None:
            return kept
        return open_workbook(self.path, self.kind, encoding=self.encoding)

    def keep_open(self, workbook) -> None:
        """Have ``open()`` answer ``workbook`` (already read) for the life of this object."""
        self._workbook = workbook

    @property
    def sample_path(self):
        return self.path.with_name(self.path.name + ".sample.json")

    def sample(self, sheet: int) -> dict:
        """The first rows of sheet ``sheet`` (an index) and its row count, and the sheet names.

        Read from the file once and kept beside it (``sample_path``, private like the upload):
        reading a sheet reads all of it, which takes tens of seconds for a million rows, and the
        wizard's pages ask again on every change of sheet or header row.
        """
        import json
        import os

        path = self.sample_path
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            kept = {}
        sheets = kept.setdefault("sheets", {})
        if str(sheet) not in sheets or "sheet_names" not in kept:
            workbook = self.open()
            kept["sheet_names"] = list(workbook.sheet_names)
            sheets[str(sheet)] = workbook.sample(sheet)
            temp = path.with_name(f".{path.name}.{os.getpid()}")
            temp.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
            temp.chmod(0o600)
            os.replace(temp, path)
        return {"sheet_names": kept["sheet_names"], **sheets[str(sheet)]}


class ImportMapping(RencaiModel):
    """A saved column mapping (导入模板) for the sheets of one source, e.g. 盐湖区人社局's list."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    source = models.CharField(_("数据来源"), max_length=128, blank=True)
    columns = models.JSONField(_("列对应"), default=dict, blank=True, help_text=_("表头文字 → 字段名"))
    fixed = models.JSONField(_("统一取值"), default=dict, blank=True, help_text=_("字段名 → 整个文件的取值"))
    header_row = models.PositiveIntegerField(_("表头所在行"), default=0, help_text=_("从 0 起算"))

    class Meta:
        verbose_name = _("导入模板")
        verbose_name_plural = _("导入模板")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportBatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("未导入")
    CANCELLED = "cancelled", _("已取消")
    UNDONE = "undone", _("已撤销")


def empty_counts() -> dict:
    return {"created": 0, "updated": 0, "skipped": 0, "duplicates": 0, "errors": 0, "total": 0}


class ImportBatch(RencaiModel):
    """One import run (导入批次): who, which file, with which options, and what came of it."""

    upload = models.ForeignKey(ImportUpload, verbose_name=_("导入文件"), on_delete=models.PROTECT, related_name="batches")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导入人"), null=True, on_delete=models.SET_NULL, related_name="+",
    )
    options = models.JSONField(_("导入选项"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=ImportBatchStatus.choices,
                              default=ImportBatchStatus.QUEUED)
    counts = models.JSONField(_("计数"), default=empty_counts)
    message = models.TextField(_("结果说明"), blank=True)
    errors = models.JSONField(
        _("行错误"), default=list, blank=True,
        help_text=_("[行号, {列: 原因}, [出错列序号]]，供下载错误报告"),
    )
    job = models.ForeignKey("core.Job", verbose_name=_("后台任务"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return _("导入批次 #%(id)s（%(file)s）") % {"id": self.pk, "file": self.upload.file_name}

    @property
    def reference(self) -> str:
        """What talents created by this batch carry in ``source_ref`` (来源批次)."""
        return f"导入批次#{self.pk}"


class ImportChange(models.Model):
    """An existing talent an import updated: the values it replaced and the version it left, so
    undo can put them back while nobody has changed the record since."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    talent_id = models.BigIntegerField()
    version = models.PositiveIntegerField(help_text="the talent's version after the import")
    # JSON of {attname: value before}; encrypted, as it may hold an ID-card or mobile number.
    before = EncryptedTextField(default="")

    class Meta:
        verbose_name = _("导入修改")
        default_permissions = ()
        indexes = [models.Index(fields=["batch", "talent_id"], name="imports_change_batch_idx")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.talent_id}"

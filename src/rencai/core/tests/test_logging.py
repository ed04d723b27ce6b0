"""Personal numbers never reach a log line, tracebacks included."""

import logging

from rencai.core.logging import RedactingFormatter, RedactPersonalDataFilter, redact


def test_it_masks_id_and_mobile_numbers_in_text():
    text = "身份证 140802199003071234，手机 13812345678，订单 2026112712345678901"
    out = redact(text)
    assert "140802********1234" in out and "138****5678" in out
    assert "199003071234" not in out and "13812345678" not in out
    assert "2026112712345678901" in out  # longer digit runs are not personal numbers


def test_formatter_masks_tracebacks():
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError("bad id 14080219900307123X")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("13812345678",), True)
        import sys

        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert "13812345678" not in line and "14080219900307123X" not in line
    assert "138****5678" in line and "140802********123X" in line


def test_filter_masks_arguments():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone %s", ("13812345678",), None)
    RedactPersonalDataFilter().filter(record)
    assert record.getMessage() == "phone 138****5678"

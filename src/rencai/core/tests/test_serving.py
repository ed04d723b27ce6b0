"""The served process's start-up: the WSGI entry point leaves its heap frozen and its code loaded;
a job worker starts with the segmenter and the pinyin tables loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHECK = """
import gc, json, sys
import rencai.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "young": gc.get_threshold()[0],
                  "loaded": ["pypinyin" in sys.modules, "rencai.talents.views" in sys.modules]}))
"""


def test_it_freezes_what_start_up_leaves_and_collects_the_young_generation_less_often():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rencai.settings"}
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    state = json.loads(done.stdout.strip().splitlines()[-1])
    from rencai import serving

    assert state["frozen"] > 100_000  # Django, the views and pypinyin's tables, out of the collector's walks
    assert state["young"] == serving.YOUNG_THRESHOLD
    assert state["loaded"] == [True, True]


WORKER_CHECK = """
import json, sys
import django
django.setup()
from rencai import serving
from rencai.talents import search
before = search._tokenizer is not None
serving.prepare_worker()
print(json.dumps({"before": before, "after": search._tokenizer is not None and search._tokenizer.initialized,
                  "pinyin": "pypinyin" in sys.modules}))
"""


def test_a_job_worker_loads_the_segmenter_and_pinyin_before_its_first_job(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rencai.settings", "RENCAI_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run([sys.executable, "-c", WORKER_CHECK], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"before": False, "after": True, "pinyin": True}

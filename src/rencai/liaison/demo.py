"""Demo data of the liaison area."""

from rencai.liaison import campaigns_demo  # noqa: E402, F401  (demo campaigns, opt-outs, greeting drafts)

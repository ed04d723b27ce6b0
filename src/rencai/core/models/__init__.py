"""Core models; each kind lives in its own module and is re-exported here."""

from rencai.core.models.accounts import Role, User
from rencai.core.models.audit import AuditChainHead, AuditEntry
from rencai.core.models.base import RegionScopedModel, RencaiModel, RestrictedQuerySet
from rencai.core.models.dictionaries import Dictionary, DictionaryItem
from rencai.core.models.jobs import Job
from rencai.core.models.orgunits import OrgUnit
from rencai.core.models.regions import Region
from rencai.core.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEntry",
    "Dictionary",
    "DictionaryItem",
    "Job",
    "OrgUnit",
    "Region",
    "RegionScopedModel",
    "RencaiModel",
    "RestrictedQuerySet",
    "Role",
    "User",
]

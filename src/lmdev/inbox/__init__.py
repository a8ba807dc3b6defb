"""The inbox: papers a watch found that nobody has decided on yet, one small YAML file each under
``<data dir>/inbox/`` (:mod:`lmdev.inbox.folder`), each an :class:`InboxItem`
(:mod:`lmdev.inbox.item`)."""

from lmdev.inbox.folder import Inbox
from lmdev.inbox.item import ANNOUNCE_TYPES, InboxItem, ScoredAssumption, ScoredProblem, Tag, Waiting, render
from lmdev.paths import INBOX_DIR

__all__ = ["ANNOUNCE_TYPES", "INBOX_DIR", "Inbox", "InboxItem", "ScoredAssumption", "ScoredProblem", "Tag", "Waiting", "render"]

"""The guard against mass deletion: a run may not empty a scope, or shrink it by more than a share.

An empty or partial answer from a source (a proxy answering ``{}``, a permission change hiding issues
from the service account, a share that is not mounted, an export truncated to its header) looks, to
a snapshot, exactly like a source whose records were all deleted. Deleting on such evidence loses a
project's data, and a later healthy sync cannot tell that anything is missing. So every deletion a
sync run makes — a :class:`~pmsync.connector.SnapshotComplete` sweep or :class:`~pmsync.connector.Deleted`
markers, for every connector — is checked per scope against what the scope held before the run:

- a run may not leave a scope that had live records with none (``all of a scope``);
- a run may not shrink a scope by more than ``max_share`` of its live records, once the loss is more
  than ``min_records`` (so deleting one task of an eight-task plan is not a "mass" deletion).

The loss is net of what the same run added to the scope: a finance export that restates a month with
new line ids replaces its lines one for one and shrinks nothing. A refused run fails with
:class:`~pmsync.errors.MassDeletionError` naming the source, the scope and the counts; its
transaction is rolled back to the last checkpoint and the cursor does not move, so nothing is lost
and the next run asks again. ``pmsync sync --allow-deletions`` lets one run through, and the run
ledger notes what was allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmsync.errors import MassDeletionError

#: defaults of ``sync.deletion_guard`` in pmsync.yaml
DEFAULT_MAX_SHARE = 0.10
DEFAULT_MIN_RECORDS = 5


@dataclass(frozen=True)
class DeletionPolicy:
    """How much one run may delete from one scope; ``allow`` lets this one run delete anything."""

    max_share: float = DEFAULT_MAX_SHARE
    min_records: int = DEFAULT_MIN_RECORDS
    allow: bool = False


@dataclass(frozen=True)
class ScopeLoss:
    """A scope's live records before the run (not counting those the run added) and after it."""

    scope: str
    before: int
    after: int

    @property
    def lost(self) -> int:
        return max(self.before - self.after, 0)

    def too_large(self, policy: DeletionPolicy) -> bool:
        if self.before <= 0 or self.lost == 0:
            return False
        if self.after == 0:
            return True
        return self.lost > policy.min_records and self.lost > policy.max_share * self.before

    def describe(self) -> str:
        scope = f"scope {self.scope!r}" if self.scope else "the source's unscoped records"
        share = 100 * self.lost / self.before
        return f"{scope} would lose {self.lost} of its {self.before} live records ({share:.0f} %)"


def refusal(source_name: str, loss: ScopeLoss, policy: DeletionPolicy) -> MassDeletionError:
    """The error of a run whose deletions ``policy`` does not allow."""
    limit = (
        "a run may not delete every record of a scope"
        if loss.after == 0
        else f"the limit is {policy.max_share:.0%} of a scope (sync.deletion_guard.max_share)"
    )
    return MassDeletionError(
        f"refused to delete: {loss.describe()}; {limit}. An empty or partial answer from the source "
        "looks the same as a real deletion, so nothing was deleted and the cursor did not move",
        source=source_name,
        record=loss.scope or None,
        hint=(
            "check the source (permissions, filters, an empty export); if the records really are gone, "
            f"run `pmsync sync --source {source_name} --allow-deletions` once"
        ),
    )


def allowed_note(loss: ScopeLoss) -> str:
    """The run ledger's note for a deletion the guard would have refused."""
    return f"deletions allowed by --allow-deletions: {loss.describe().replace('would lose', 'lost')}"

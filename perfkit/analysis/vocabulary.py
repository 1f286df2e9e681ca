"""The words of a verdict, defined once: what each row and the whole comparison may say.

Every analysis module that writes a verdict, and every presentation that shows one, takes its words
from here (``perfkit.analysis.verdict`` re-exports them).
"""

TARGET_VERDICTS = (
    "cleared-stretch",
    "cleared",
    "improved-unresolved",
    "improved-below-target",
    "no-change",
    "regressed",
)
GUARDRAIL_VERDICTS = ("held", "broken", "unresolved")
#: What an informational row says: which way it went, judged with Holm-adjusted p-values.
INFO_VERDICTS = ("better", "worse", "no-change")
#: Verdict of a target or guardrail with fewer than :data:`MIN_DECISION_RUNS` runs in a variant.
INSUFFICIENT = "insufficient"
#: Fewer runs than this in either variant give no verdict at all (one run per variant could
#: otherwise "clear" a target on two numbers).
MIN_DECISION_RUNS = 3
#: Verdict of a row whose change cannot be computed (no runs, or a zero baseline that varies).
UNDEFINED = "undefined"
OVERALL = ("cleared", "not-shown", "regressed")

SUCCESS_METRIC = "success_rate"

__all__ = [
    "GUARDRAIL_VERDICTS", "INFO_VERDICTS", "INSUFFICIENT", "MIN_DECISION_RUNS", "OVERALL",
    "SUCCESS_METRIC", "TARGET_VERDICTS", "UNDEFINED",
]

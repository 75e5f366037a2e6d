"""The six pipeline stages, in order, with their Chinese labels."""

from enum import StrEnum


class Stage(StrEnum):
    LEAD = "lead"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    QUOTING = "quoting"
    CONTRACTED = "contracted"
    FULFILLING = "fulfilling"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]

    @property
    def rank(self) -> int:
        return STAGE_ORDER.index(self)

    @classmethod
    def from_label(cls, label: str) -> "Stage":
        """Return the stage whose Chinese label is `label`; raise KeyError otherwise."""
        return _BY_LABEL[label]


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)

STAGE_LABELS: dict[Stage, str] = {
    Stage.LEAD: "线索登记",
    Stage.CONTACTED: "初步沟通",
    Stage.QUALIFIED: "需求确认",
    Stage.QUOTING: "方案报价",
    Stage.CONTRACTED: "合同签订",
    Stage.FULFILLING: "发货回款",
}

_BY_LABEL = {label: stage for stage, label in STAGE_LABELS.items()}

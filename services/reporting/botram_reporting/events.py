"""The events reporting publishes, built in one place: the demand ranking."""

from botram_contracts.events import DemandRankedV1, Period, RankedService
from botram_reporting.domain.demand import DemandRanking


def demand_ranked(ranking: DemandRanking) -> DemandRankedV1:
    """`botram.demand.ranked.v1` for a computed ranking."""
    return DemandRankedV1(
        period=Period.model_validate({"from": ranking.start, "to": ranking.end}),
        level=ranking.level,
        ranking=[
            RankedService(service=r.service, agency=r.agency, tickets=r.tickets)
            for r in ranking.ranking
        ],
    )

-- Net promoter score per month and segment, plus 'all' (docs/metrics.md): % promoters (9-10) minus
-- % detractors (0-6) among nps_response events, on a -100..100 scale; NULL without responses.
-- Responses of unknown or deleted accounts count in 'all' only.
with responses as (
    select
        cast(date_trunc('month', events.occurred_at) as date) as month,
        accounts.segment,
        events.nps_score
    from stg_crm__engagement_events as events
    left join stg_crm__accounts as accounts on accounts.account_id = events.account_id
    where events.event_type = 'nps_response' and events.nps_score is not null
),

segmented as (
    select month, 'all' as segment, nps_score from responses
    union all
    select month, segment, nps_score from responses where segment is not null
),

scores as (
    select
        month,
        segment,
        count(*) as responses,
        count(*) filter (where nps_score >= 9) as promoters,
        count(*) filter (where nps_score <= 6) as detractors
    from segmented
    group by month, segment
)

select
    cast(months.month as date) as month,
    cast(segments.segment as varchar) as segment,
    cast(coalesce(scores.responses, 0) as bigint) as responses,
    cast(coalesce(scores.promoters, 0) as bigint) as promoters,
    cast(coalesce(scores.detractors, 0) as bigint) as detractors,
    cast((scores.promoters - scores.detractors) * 100.0 / nullif(scores.responses, 0) as double) as nps
from int_months as months
cross join int_segments as segments
left join scores
    on scores.month = months.month
        and scores.segment = segments.segment

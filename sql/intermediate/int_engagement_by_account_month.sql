-- Engagement per account and month (docs/metrics.md, "Engagement against economics", "Engagement
-- fatigue"): the engagement score (the sum of the configured weight of each event, from
-- staging.engagement_weights; an unlisted type weighs 0), the campaign touches and unsubscribes,
-- and the organic score (the same weights over every event that is neither a campaign touch nor
-- an unsubscribe), summed as an exact decimal so that the fatigue threshold compares exactly.
-- Events of unknown or deleted accounts fall under 'unattributed:crm'.
select
    coalesce(accounts.account_id, 'unattributed:crm') as account_id,
    cast(date_trunc('month', events.occurred_at) as date) as month,
    count(*) as events,
    sum(coalesce(weights.weight, 0)) as engagement_score,
    count(*) filter (where events.event_type = 'campaign_touch') as campaign_touches,
    count(*) filter (where events.event_type = 'unsubscribe') as unsubscribes,
    coalesce(sum(cast(coalesce(weights.weight, 0) as decimal(18, 6))) filter (
        where events.event_type not in ('campaign_touch', 'unsubscribe')
    ), 0) as organic_engagement_score
from stg_crm__engagement_events as events
left join stg_crm__accounts as accounts on accounts.account_id = events.account_id
left join engagement_weights as weights on weights.event_type = events.event_type
group by 1, 2

-- How price increases were absorbed, per segment and per the engagement quadrant the account was
-- in the month before (docs/metrics.md, "Price increases"): always 24 rows, ('all' + 3 segments)
-- x ('all' + 4 quadrants + 'none' for no quadrant), zeros where nothing happened. The
-- pseudo-accounts (no segment) count in segment 'all' only. absorption_rate is over the
-- increases whose outcome is known (pending ones excluded).
with increases as (
    select
        accounts.segment,
        coalesce(increases.quadrant_before, 'none') as quadrant,
        increases.outcome
    from price_increases as increases
    left join dim_account as accounts on accounts.account_id = increases.account_id
),

quadrants as (
    select quadrant
    from (
        values ('all'), ('economic_champion'), ('engagement_theater'), ('quiet_value'), ('at_risk'), ('none')
    ) as quadrants (quadrant)
),

grid as (
    select segments.segment, quadrants.quadrant
    from int_segments as segments
    cross join quadrants
),

counted as (
    select
        grid.segment,
        grid.quadrant,
        count(increases.outcome) as increases,
        count(*) filter (where increases.outcome = 'absorbed') as absorbed,
        count(*) filter (where increases.outcome = 'contracted') as contracted,
        count(*) filter (where increases.outcome = 'churned') as churned,
        count(*) filter (where increases.outcome = 'pending') as pending
    from grid
    left join increases
        on (grid.segment = 'all' or grid.segment = increases.segment)
            and (grid.quadrant = 'all' or grid.quadrant = increases.quadrant)
    group by grid.segment, grid.quadrant
)

select
    cast(segment as varchar) as segment,
    cast(quadrant as varchar) as quadrant,
    cast(increases as bigint) as increases,
    cast(absorbed as bigint) as absorbed,
    cast(contracted as bigint) as contracted,
    cast(churned as bigint) as churned,
    cast(pending as bigint) as pending,
    cast(absorbed / nullif(absorbed + contracted + churned, 0) as double) as absorption_rate
from counted

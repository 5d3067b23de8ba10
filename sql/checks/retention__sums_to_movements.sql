-- Every retention row sums back to the account movements of its month and segment ('all' over
-- every account, pseudo-accounts included). Returns the rows that do not, to the cent.
with segments as (select distinct segment from retention),

expected as (
    select
        movements.month,
        segments.segment,
        sum(case when movements.previous_mrr > 0 then movements.previous_mrr else 0 end) as starting_mrr,
        sum(movements.new) as new,
        sum(movements.reactivation) as reactivation,
        sum(movements.expansion) as expansion,
        sum(movements.contraction) as contraction,
        sum(movements.churn) as churn
    from mrr_movements as movements
    left join dim_account as accounts using (account_id)
    inner join segments
        on segments.segment = 'all' or segments.segment = accounts.segment
    group by movements.month, segments.segment
)

select retention.month, retention.segment
from retention
left join expected using (month, segment)
where abs(retention.starting_mrr - coalesce(expected.starting_mrr, 0)) >= 0.005
    or abs(retention.new - coalesce(expected.new, 0)) >= 0.005
    or abs(retention.reactivation - coalesce(expected.reactivation, 0)) >= 0.005
    or abs(retention.expansion - coalesce(expected.expansion, 0)) >= 0.005
    or abs(retention.contraction - coalesce(expected.contraction, 0)) >= 0.005
    or abs(retention.churn - coalesce(expected.churn, 0)) >= 0.005

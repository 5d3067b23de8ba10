-- MRR movements per account and month (docs/metrics.md, "MRR and its movements"). Movements compare
-- this month's MRR with last month's, both at this month's rates (constant currency), so FX never
-- shows up as expansion or churn; fx_effect carries it. New vs reactivation is decided on the
-- account's whole history: any earlier month with MRR > 0 makes it a reactivation.
-- MRR is DECIMAL(38,6) (exact), so the comparisons are exact: no sub-cent noise can become an
-- expansion or a contraction. Identity (checked): mrr - mrr of the month before (each at its own
-- rates) = new + reactivation + expansion - contraction - churn + fx_effect + prior_period_adjustment,
-- where the month before is its published value (frozen, when it is a closed month).
with months as (
    select
        spine.account_id,
        spine.month,
        coalesce(rates.mrr, money(0)) as mrr,
        coalesce(rates.previous_mrr, money(0)) as previous_mrr
    from int_account_months as spine
    left join int_mrr_at_month_rates as rates using (account_id, month)
),

with_history as (
    select
        *,
        coalesce(lag(mrr) over (partition by account_id order by month), money(0)) as previous_mrr_own_rates,
        coalesce(max(case when mrr > 0 then 1 else 0 end) over (
            partition by account_id order by month rows between unbounded preceding and 1 preceding
        ), 0) = 1 as had_mrr_before
    from months
)

select
    cast(account_id as varchar) as account_id,
    cast(month as date) as month,
    cast(mrr as decimal(38, 6)) as mrr,
    cast(previous_mrr as decimal(38, 6)) as previous_mrr,
    cast(case when previous_mrr = 0 and mrr > 0 and not had_mrr_before then mrr else 0 end as decimal(38, 6)) as new,
    cast(case when previous_mrr = 0 and mrr > 0 and had_mrr_before then mrr else 0 end as decimal(38, 6)) as reactivation,
    cast(case when previous_mrr > 0 and mrr > previous_mrr then mrr - previous_mrr else 0 end as decimal(38, 6)) as expansion,
    cast(case when previous_mrr > 0 and mrr > 0 and mrr < previous_mrr then previous_mrr - mrr else 0 end as decimal(38, 6)) as contraction,
    cast(case when previous_mrr > 0 and mrr = 0 then previous_mrr else 0 end as decimal(38, 6)) as churn,
    cast(previous_mrr - previous_mrr_own_rates as decimal(38, 6)) as fx_effect,
    -- The MRR bridge across a month-end close: in the first month after the frozen ones, what the
    -- recomputed MRR of the month before differs from its published (frozen) MRR; 0 elsewhere.
    cast(
        case
            when month = first_recomputed_month then previous_mrr_own_rates - coalesce(frozen_mrr, 0)
            else 0
        end as decimal(38, 6)
    ) as prior_period_adjustment
from with_history
-- first_recomputed_month: the month after the last month served frozen (NULL while no month is
-- closed); frozen_mrr: each account's MRR as published for that last month.
cross join closed_periods
left join closed_month_mrr using (account_id)

-- The MRR bridge holds for every account and month to the cent (docs/metrics.md, "MRR and its
-- movements"): mrr(M) - mrr(M-1), each at its own month's rates, equals new + reactivation +
-- expansion - contraction - churn + fx_effect + prior_period_adjustment, where mrr(M-1) is the
-- published one: after a month-end close, the first month recomputed bridges from the frozen MRR
-- of the last closed month (staging.closed_month_mrr). Money is exact, so the identity must hold
-- exactly. Returns the account-months where it does not.
with bridged as (
    select
        account_id,
        month,
        new + reactivation + expansion - contraction - churn + fx_effect + prior_period_adjustment as movements,
        mrr - case
            when month = first_recomputed_month then coalesce(frozen_mrr, 0)
            else coalesce(lag(mrr) over (partition by account_id order by month), 0)
        end as mrr_change
    from mrr_movements
    cross join closed_periods
    left join closed_month_mrr using (account_id)
)

select account_id, month, mrr_change, movements
from bridged
where mrr_change <> movements

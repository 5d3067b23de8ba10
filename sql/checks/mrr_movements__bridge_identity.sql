-- The MRR bridge holds for every account and month to the cent (docs/metrics.md, "MRR and its
-- movements"): mrr(M) - mrr(M-1), each at its own month's rates, equals new + reactivation +
-- expansion - contraction - churn + fx_effect + prior_period_adjustment. Money is exact, so the
-- identity must hold exactly. Returns the account-months where it does not.
with bridged as (
    select
        account_id,
        month,
        mrr - coalesce(lag(mrr) over (partition by account_id order by month), 0) as mrr_change,
        new + reactivation + expansion - contraction - churn + fx_effect + prior_period_adjustment as movements
    from mrr_movements
)

select account_id, month, mrr_change, movements
from bridged
where mrr_change <> movements

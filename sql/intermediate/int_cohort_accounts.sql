-- Each live account's cohort (docs/metrics.md, "Cohorts and realised lifetime value"): its first
-- month with MRR > 0. The pseudo-accounts and accounts that never had MRR belong to no cohort.
select
    mrr.account_id,
    accounts.segment,
    min(mrr.month) as cohort_month
from int_mrr_at_month_rates as mrr
inner join stg_crm__accounts as accounts on accounts.account_id = mrr.account_id
where mrr.mrr > 0
group by mrr.account_id, accounts.segment

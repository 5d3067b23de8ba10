-- working_capital_monthly's ar_end and billed_90d are the sums of the working_capital account
-- rows of the month (docs/metrics.md, "Working capital"). Returns the months that differ by a cent.
with account_totals as (
    select month, sum(ar_end) as ar_end, sum(billed_90d) as billed_90d
    from working_capital
    group by month
)

select monthly.month, monthly.ar_end, account_totals.ar_end as account_ar_end
from working_capital_monthly as monthly
left join account_totals using (month)
where abs(monthly.ar_end - coalesce(account_totals.ar_end, 0)) >= 0.005
    or abs(monthly.billed_90d - coalesce(account_totals.billed_90d, 0)) >= 0.005
